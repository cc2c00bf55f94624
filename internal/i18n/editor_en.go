package i18n

// enEditor is the English catalogue of the edition editor of the console: the block editor, its cards and fields, image upload, the source tab and drafts.
var enEditor = map[string]string{}
