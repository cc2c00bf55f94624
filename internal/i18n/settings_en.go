package i18n

// enSettings is the English catalogue of the settings page of the console and its connection tests.
var enSettings = map[string]string{}
