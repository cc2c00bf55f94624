package i18n

// frMailbox is the French catalogue of the mailbox page of the console: events read over IMAP, and bounces waiting for an admin.
var frMailbox = map[string]string{}
