package i18n

// enConsent is the English catalogue of the public consent pages and mails: subscribing, confirming, unsubscribing, preferences.
var enConsent = map[string]string{
	"subscribe.review":              "Check your details, then confirm your subscription on this page.",
	"confirm.expired":               "This confirmation link has expired. To subscribe, fill in the subscription form again: you will receive a new link.",
	"confirm.used":                  "This confirmation link has already been used: it works only once. If you confirmed, your subscription is recorded.",
	"confirm.suppressed":            "This subscription cannot be restored online. Write to us to restore it.",
	"unsubscribe.mailed":            "If your address can be subscribed again, a confirmation link has just been sent to it. Click it to restore your subscription.",
	"unsubscribe.reconfirm_text":    "Would you like to subscribe again? We will send a confirmation link to this address.",
	"unsubscribe.reconfirm":         "Send me a confirmation link",
	"preferences.join_mailed":       "For the newsletters you added, a confirmation link has just been sent to your address: they will be sent to you once you open it.",
	"subscribers.lift":              "Lift the suppression",
	"subscribers.lift_hint":         "A complaint or a hard bounce is lifted only at the person’s request. Give the reason: it is written in the history with your login.",
	"subscribers.lift_reason_hint":  "e.g. complaint by mistake, confirmed by e-mail on 12/01",
	"subscribers.error.lift_status": "Only a complaint or a hard bounce can be lifted here.",
	"subscribers.error.lift_reason": "Give the reason for lifting it: nothing was changed.",
	"flash.subscriber_lifted":       "The suppression is lifted; the subscriber is active again.",
	"event.refused":                 "Request refused",
}
