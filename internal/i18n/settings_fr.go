package i18n

// frSettings is the French catalogue of the settings page of the console and its connection tests.
var frSettings = map[string]string{}
