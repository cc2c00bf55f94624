package i18n

// enMailbox is the English catalogue of the mailbox page of the console: events read over IMAP, and bounces waiting for an admin.
var enMailbox = map[string]string{}
