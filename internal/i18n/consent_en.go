package i18n

// enConsent is the English catalogue of the public consent pages and mails: subscribing, confirming, unsubscribing, preferences.
var enConsent = map[string]string{}
