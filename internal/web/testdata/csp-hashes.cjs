// Prints the CSP hashes (and sizes) of the <style> texts a vendored Editor.js UMD bundle inserts: see README.md.
const fs = require("fs");
const src = fs.readFileSync(process.argv[2], "utf8");
const out = [];
const doc = { createElement: () => ({ appendChild(t) { this.t = (this.t || "") + t; } }), createTextNode: s => s, head: { appendChild(e) { out.push(e.t); } } };
const re = /\(function\(\)\{(?:"use strict";)?try\{if\(typeof document<"u"\)\{var (\w)=document\.createElement\("style"\);\1\.appendChild\(document\.createTextNode\(((?:"(?:[^"\\]|\\.)*")|(?:'(?:[^'\\]|\\.)*'))\)\),document\.head\.appendChild\(\1\)\}\}catch\(\w\)\{console\.error\("vite-plugin-css-injected-by-js",\w\)\}\}\)\(\);/g;
for (const m of src.matchAll(re)) new Function("document", m[0])(doc);
const ya = src.match(/loadStyles\(\)\{const \w="editor-js-styles";if\(\w\.get\(\w\)\)return;const \w=\w\.make\("style",null,\{id:\w,textContent:(\w+)\.toString\(\)\}\)/);
if (ya) { const d = src.match(new RegExp("[,; ]" + ya[1] + "=(`(?:[^`\\\\]|\\\\.)*`)")); out.push(new Function("return " + d[1])()); }
const crypto = require("crypto");
for (const t of out) console.log("'sha256-" + crypto.createHash("sha256").update(t, "utf8").digest("base64") + "'", t.length, JSON.stringify(t.slice(0, 50)));
