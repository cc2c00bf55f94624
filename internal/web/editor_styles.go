package web

// editorStyleHashes allow, in the pages' style-src, exactly the <style>
// elements that the vendored Editor.js bundles insert when they load
// (static/vendor/: the core's stylesheet, hints, paragraph tool and
// bundled tooltip, the header and list tools). The policy allows no other inline style,
// and the vendored files stay as npm ships them. Refreshing the vendored
// files changes these: static/vendor/README.md prints the new ones, and
// the editor browser tests (TestEditorNewStaffMember, TestEditorKeepsExampleUnchanged)
// fail on any refusal, which names the hash Chromium wants.
const editorStyleHashes = "'sha256-0M8dkGs1lImPs3mKvCTnS1ZKxQwQ5A/LfhaSlyOM7jo=' " + // editorjs@2.31.7 stylesheet
	"'sha256-XJt+VG4GO/3UzuYzfgM8hXd1esyCUc8XFrjROetEixs=' " + // editorjs@2.31.7 hints
	"'sha256-3xk/4vimQaPGDuOrm0sl2iNXKnKRY3vf/hBJwXH/wjg=' " + // editorjs@2.31.7 paragraph
	"'sha256-jWzOSiuXkc+25P/nXc5zB9eH/lP2wANF6pl026BYphc=' " + // editorjs@2.31.7 bundled tooltip (style-loader)
	"'sha256-FhlryUmtfW8PYZ9r/LTpjPahwVmevaJdc0XSm73dJlI=' " + // editorjs@2.31.7 bundled tooltip (style-loader)
	"'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' " + // the empty <style> style-loader inserts before filling it
	"'sha256-VZ6f6kGovmiJDue3pEvYY6Ffg3RywIAYmQaHAGX4hrg=' " + // editorjs-header@2.8.9
	"'sha256-rCIjR3ql9b60W2yWHHvfk5+hvurAQM+LTnmKIHnAV2k=' " + // editorjs-list@2.0.9
	// The link tool marks the selected text while its address is typed
	// with style="background-color: rgb(168, 214, 255);" (and removes it):
	// 'unsafe-hashes' allows that one attribute value, no other.
	"'unsafe-hashes' 'sha256-LW2/sP7D2wUVTmuaGbP/ToCB7MY29spXOWF3rB4EKUw='"
