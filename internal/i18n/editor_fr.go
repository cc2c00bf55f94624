package i18n

// frEditor is the French catalogue of the edition editor of the console: the block editor, its cards and fields, image upload, the source tab and drafts.
var frEditor = map[string]string{}
