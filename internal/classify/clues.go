package classify

import (
	"regexp"
	"strings"
)

// inlineClueRE finds Bulletin's headers in a returned original that a
// bounce quotes as text, wherever the quote starts.
var inlineClueRE = regexp.MustCompile(`(?im)^[ \t>]*(x-bulletin-delivery|x-bulletin-campaign)[ \t]*:[ \t]*([^\s;]+)`)

// collectClues gathers the matching clues of m into res: the VERP token of
// the addressing, and Bulletin's headers and the Message-ID of any returned
// original.
func collectClues(m *msg, opts Options, res *Result) {
	for _, k := range []string{"Delivered-To", "X-Original-To", "To", "Envelope-To", "X-Envelope-To", "X-Original-Rcpt-To", "Original-Recipient"} {
		if res.VERPToken != "" {
			break
		}
		for _, v := range m.header.Values(k) {
			if tok := verpToken(v, opts); tok != "" {
				res.VERPToken = tok
				break
			}
		}
	}
	for _, o := range m.originals {
		collectOriginalClues(o, res)
		if res.VERPToken == "" {
			for _, v := range o.header.Values("Return-Path") {
				if tok := verpToken(v, opts); tok != "" {
					res.VERPToken = tok
				}
			}
		}
	}
	// Delivery-status and feedback fields name the envelope sender too.
	for _, p := range m.parts {
		if res.VERPToken != "" {
			break
		}
		if p.mediaType == "message/delivery-status" || p.mediaType == "message/feedback-report" {
			for _, b := range parseDSNFields(p.body) {
				for _, f := range b {
					if f.name == "x-postfix-sender" || f.name == "original-mail-from" || f.name == "x-original-mail-from" {
						if tok := verpToken(f.value, opts); tok != "" && res.VERPToken == "" {
							res.VERPToken = tok
						}
					}
				}
			}
		}
	}
	// A bounce that quotes the original as text (no message/rfc822 part):
	// Bulletin's headers are distinctive enough to find anywhere.
	if res.DeliveryToken == "" || res.CampaignID == "" {
		texts := make([]string, 0, len(m.parts)+len(m.originals))
		for _, p := range m.parts {
			texts = append(texts, p.body)
		}
		for _, o := range m.originals {
			texts = append(texts, o.body)
		}
		for _, t := range texts {
			if !mayHaveBulletinHeader(t) {
				continue
			}
			for _, mm := range inlineClueRE.FindAllStringSubmatch(t, -1) {
				setHeaderClue(res, mm[1], mm[2])
			}
		}
	}
}

// mayHaveBulletinHeader is a cheap test before the regular expression,
// which has no literal prefix and would scan every byte.
func mayHaveBulletinHeader(s string) bool {
	return strings.Contains(s, "X-Bulletin-") || strings.Contains(s, "x-bulletin-") || strings.Contains(s, "X-BULLETIN-")
}

// collectOriginalClues reads the clues of one returned original.
func collectOriginalClues(o original, res *Result) {
	setHeaderClue(res, "x-bulletin-delivery", o.header.Get("X-Bulletin-Delivery"))
	setHeaderClue(res, "x-bulletin-campaign", o.header.Get("X-Bulletin-Campaign"))
	if res.OriginalMessageID == "" {
		if id := strings.TrimSpace(o.header.Get("Message-Id")); id != "" {
			res.OriginalMessageID = strings.Trim(strings.Fields(id)[0], "<>")
		}
	}
}

// setHeaderClue keeps the first value seen of one of Bulletin's headers.
func setHeaderClue(res *Result, name, value string) {
	value = strings.TrimSpace(value)
	if value == "" {
		return
	}
	value = strings.Fields(value)[0]
	switch strings.ToLower(name) {
	case "x-bulletin-delivery":
		if res.DeliveryToken == "" {
			res.DeliveryToken = value
		}
	case "x-bulletin-campaign":
		if res.CampaignID == "" {
			res.CampaignID = value
		}
	}
}

// verpToken returns the token of the first `<BounceLocal>+token@` address
// in v, or "".
func verpToken(v string, opts Options) string {
	for _, a := range addrRE.FindAllString(v, -1) {
		if tok, ok := plusToken(a, opts.BounceLocal); ok && tok != "" {
			return tok
		}
	}
	return ""
}
