package i18n

// frLogin is the French catalogue of signing in to the console and changing a password.
var frLogin = map[string]string{}
