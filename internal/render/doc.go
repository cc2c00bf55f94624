// Package render turns an edition into e-mail bodies: an HTML part built for
// mail clients (tables, a 600 px column, inlined CSS, a hidden preheader,
// dark-mode and phone styles) and a plain-text part laid out from the same
// content (headings underlined, links numbered and listed, lines wrapped at
// 72 columns).
//
// The work is split in two so that sending to thousands is cheap:
//
//   - Load reads the layout (templates/edition.html.tmpl and
//     edition.txt.tmpl, or the embedded defaults) once per campaign or
//     preview.
//   - Templates.Prepare does everything that is the same for every reader:
//     Markdown, blocks, the templates, CSS inlining, text layout. Recipient
//     fields in the templates become slots, placeholders whose escaping
//     context (text, attribute, URL, query value) is known at this point.
//   - Prepared.Render (or AppendHTML/AppendText, WriteHTML/WriteText) fills
//     the slots for one recipient: fixed strings and a few escaped fields,
//     no parsing, no template execution, no allocation with reused buffers.
//
// Check reports what would keep an edition from reading well or being
// delivered whole (alt text, unreachable images, link schemes, subject
// length, Gmail's 102 KB clip); its errors block a campaign.
//
// Images next to an edition file are published under
// <public URL>/media/<slug>/<file> (links.MediaURL).
package render
