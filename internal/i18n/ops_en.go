package i18n

// enOps is the English catalogue of accessibility labels and first-run messages of the pages.
var enOps = map[string]string{
	"unsubscribe_help.title":  "Unsubscribe",
	"unsubscribe_help.lead":   "The online version of the newsletter is the same for all its readers: it cannot know which address you receive it at.",
	"unsubscribe_help.link":   "To unsubscribe, use the “Unsubscribe” link at the bottom of the email you received: it leads to your address’s unsubscribe page, with no account or password.",
	"unsubscribe_help.button": "Your mail program may also show an “Unsubscribe” button next to the sender: it does the same.",
	"unsubscribe_help.mail":   "You can also write, from the address that receives the newsletter, to",
}
