package i18n

// frConsole is the French catalogue of the console's outbox banner, send confirmation and import preview.
var frConsole = map[string]string{}
