package i18n

// enConsole is the English catalogue of the console's outbox banner, send confirmation and import preview.
var enConsole = map[string]string{}
