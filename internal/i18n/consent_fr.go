package i18n

// frConsent is the French catalogue of the public consent pages and mails: subscribing, confirming, unsubscribing, preferences.
var frConsent = map[string]string{}
