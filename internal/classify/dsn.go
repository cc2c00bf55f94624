package classify

import (
	"regexp"
	"strings"
)

// dsnField is one "Name: value" field of a delivery-status body, unfolded.
type dsnField struct {
	name  string // lower-cased
	value string
}

// dsnRecipient is one per-recipient block of an RFC 3464 delivery-status
// body.
type dsnRecipient struct {
	address    string // Final-Recipient, else Original-Recipient, lower-cased
	action     string // lower-cased
	status     string // the enhanced code only
	statusText string // what followed the code, "(Remote SMTP server has rejected address)"
	diagnostic string // Diagnostic-Code without its "smtp;" type
}

// dsnFieldRE matches the start of a field line: a name made of letters,
// digits and dashes, then a colon.
var dsnFieldRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*)[ \t]*:(.*)$`)

// parseDSNFields reads delivery-status text into blocks of unfolded fields.
// Blocks are separated by empty lines (RFC 3464 section 2.1); lines that are
// neither fields nor continuations are ignored.
func parseDSNFields(body string) [][]dsnField {
	var blocks [][]dsnField
	var cur []dsnField
	for _, ln := range lines(body) {
		if strings.TrimSpace(ln) == "" {
			if len(cur) > 0 {
				blocks = append(blocks, cur)
				cur = nil
			}
			continue
		}
		if (ln[0] == ' ' || ln[0] == '\t') && len(cur) > 0 {
			cur[len(cur)-1].value += " " + strings.TrimSpace(ln)
			continue
		}
		if m := dsnFieldRE.FindStringSubmatch(ln); m != nil {
			cur = append(cur, dsnField{name: strings.ToLower(m[1]), value: strings.TrimSpace(m[2])})
		}
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}

// parseDSN returns the per-recipient blocks of a delivery-status body. A
// block is per-recipient when it names a recipient; a block that names
// several (some MTAs forget the empty lines) is split at each new
// Final-Recipient.
func parseDSN(body string) []dsnRecipient {
	var out []dsnRecipient
	for _, block := range parseDSNFields(body) {
		var cur *dsnRecipient
		var hasFinal, hasOrig bool
		var pending []dsnField // fields seen before the block's first recipient field
		start := func() {
			out = append(out, dsnRecipient{})
			cur = &out[len(out)-1]
			hasFinal, hasOrig = false, false
		}
		for _, f := range block {
			switch f.name {
			case "final-recipient":
				if cur == nil || hasFinal {
					start()
					for _, p := range pending {
						applyDSNField(cur, p)
					}
					pending = nil
				}
				hasFinal = true
				if a := cleanAddress(f.value); a != "" {
					cur.address = a
				}
			case "original-recipient", "x-actual-recipient":
				if cur == nil || (hasOrig && f.name == "original-recipient") {
					start()
					for _, p := range pending {
						applyDSNField(cur, p)
					}
					pending = nil
				}
				if f.name == "original-recipient" {
					hasOrig = true
				}
				if a := cleanAddress(f.value); a != "" && cur.address == "" {
					cur.address = a
				}
			default:
				if cur == nil {
					pending = append(pending, f)
					continue
				}
				applyDSNField(cur, f)
			}
		}
	}
	// A block with no address at all (a per-message block mistaken for a
	// recipient) carries nothing we can use.
	kept := out[:0]
	for _, r := range out {
		if r.address != "" || r.action != "" || r.status != "" || r.diagnostic != "" {
			kept = append(kept, r)
		}
	}
	return kept
}

// applyDSNField stores one per-recipient field.
func applyDSNField(r *dsnRecipient, f dsnField) {
	switch f.name {
	case "action":
		r.action = strings.ToLower(strings.Fields(f.value + " x")[0])
	case "status":
		r.status = findStatus(f.value)
		if r.status != "" {
			if i := strings.Index(f.value, r.status); i >= 0 {
				r.statusText = strings.Trim(strings.TrimSpace(f.value[i+len(r.status):]), "()")
			}
		} else {
			r.statusText = f.value
		}
	case "diagnostic-code":
		r.diagnostic = stripDiagType(f.value)
	}
}

// stripDiagType drops the "smtp;" (or "X-Postfix;", "X-Unix;") type prefix
// of a Diagnostic-Code.
func stripDiagType(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ';'); i > 0 && i < 20 && !strings.ContainsAny(v[:i], " \t") {
		v = strings.TrimSpace(v[i+1:])
	}
	return v
}

// textDSNStart returns the delivery-status fields some MTAs quote in their
// text part ("Technical report:" with the fields in the text), from the
// start of the first recipient block, or "". The fields may be indented as
// a block (a quoted report): the block's own indentation is removed, so
// that continuation lines still read as such.
func textDSNStart(s string) string {
	if !strings.Contains(s, "ecipient:") && !strings.Contains(s, "ECIPIENT:") {
		return ""
	}
	ls := lines(s)
	for i, ln := range ls {
		body := strings.TrimLeft(ln, " \t")
		if len(body) < len("final-recipient:") || !strings.EqualFold(body[:len("final-recipient:")], "final-recipient:") {
			continue
		}
		indent := ln[:len(ln)-len(body)]
		// Back up to the start of the recipient block (Action or Status
		// may come first), but not past an empty line.
		start := i
		for start > 0 {
			prev := ls[start-1]
			if !strings.HasPrefix(prev, indent) || strings.TrimSpace(prev) == "" || !dsnFieldRE.MatchString(prev[len(indent):]) {
				break
			}
			start--
		}
		out := make([]string, 0, len(ls)-start)
		for _, l := range ls[start:] {
			out = append(out, strings.TrimPrefix(l, indent))
		}
		return strings.Join(out, "\n")
	}
	return ""
}
