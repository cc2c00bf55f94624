package classify

import (
	"regexp"
	"strings"
)

// block is the text a plain-text bounce gives about one recipient: the line
// that names it and the lines after it, up to the next recipient.
type block struct {
	addr  string
	lines []string
}

// The layouts in which plain-text bounces name a failed recipient. Each is
// shared by several MTAs; together they cover the classic families:
//
//	kijitora@example.org                        (Exim, Gmail, Domino, Exchange: the address alone)
//	<kijitora@example.org>: reason               (qmail, Postfix, Yahoo)
//	550 5.1.1 <kijitora@example.org>... reason   (Sendmail)
//	kijitora@example.org: 550 reason             (OpenSMTPD)
//	kijitora@example.org on <date> / [reason]    (Exchange 5.5, others)
//	Recipient: <kijitora@example.org>            (labelled forms, in several languages)
var (
	rcptAloneRE    = regexp.MustCompile(`^\s*(?:[*>-]+\s*)?"?<?(` + addrPattern + `)>?"?\s*:?\s*$`)
	rcptBracketRE  = regexp.MustCompile(`^\s*(?:[45]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}\s+)?)?(?:>>>\s*)?"?<(` + addrPattern + `)>"?\s*(?:\.\.\.|:|,|\s|$)`)
	rcptLeadingRE  = regexp.MustCompile(`^\s*(?:[*>-]+\s*)?"?(` + addrPattern + `)"?(?:\s*[:\[(<,]|\s+on\s|\s+\S|\s*$)`)
	rcptLabelledRE = regexp.MustCompile(`(?i)(?:recipient(?: address)?|rcpt to|rcpt|original-recipient|final-recipient|could not be delivered to|undeliverable to|unknown user|invalid final delivery userid|error delivering your mail to|deliver(?:ing)? (?:the |your )?(?:mail|message) to|returned permanent errors|not delivered to|delivery to|destinataire|adresse|empfänger|mailbox is full)\s*:?\s*(?:rfc822;\s*)?<?(` + addrPattern + `)>?`)
	rcptTrailingRE = regexp.MustCompile(`:\s*<(` + addrPattern + `)>\s*\.?\s*$`)
	senderCtxRE    = regexp.MustCompile(`(?i)(?:mail from|envelope-from|envelope sender|from:|sender:|f=\[|return-path)\s*:?\s*<?` + addrPattern)
	serverLineRE   = regexp.MustCompile(`^\s*<<<`)
)

// scanRecipients finds the recipients a plain-text bounce names, each with
// its block of text, and returns the text before the first one.
func scanRecipients(own string, exclude map[string]bool) ([]block, string) {
	var blocks []block
	index := map[string]int{}
	cur := -1
	var preamble []string
	for _, ln := range lines(own) {
		if a := recipientOnLine(ln, exclude); a != "" {
			if i, ok := index[a]; ok {
				cur = i
			} else {
				index[a] = len(blocks)
				cur = len(blocks)
				blocks = append(blocks, block{addr: a})
			}
		}
		if cur < 0 {
			preamble = append(preamble, ln)
			continue
		}
		blocks[cur].lines = append(blocks[cur].lines, ln)
	}
	return blocks, strings.Join(preamble, "\n")
}

// recipientOnLine returns the failed recipient a bounce line names, or "".
func recipientOnLine(ln string, exclude map[string]bool) string {
	if !strings.Contains(ln, "@") || serverLineRE.MatchString(ln) || headerLineLooksQuoted(ln) {
		return ""
	}
	for _, re := range []*regexp.Regexp{rcptAloneRE, rcptBracketRE, rcptLeadingRE, rcptLabelledRE, rcptTrailingRE} {
		m := re.FindStringSubmatch(ln)
		if m == nil {
			continue
		}
		a := cleanAddress(m[1])
		if a == "" || exclude[a] || isRobotAddress(a) {
			continue
		}
		if loc := senderCtxRE.FindStringIndex(ln); loc != nil && strings.Contains(strings.ToLower(ln[loc[0]:loc[1]]), a) {
			continue
		}
		return a
	}
	return ""
}

// headerLineLooksQuoted reports whether a line is a header field of a
// quoted original (From:, To:, Cc:...) rather than the bounce's own words.
func headerLineLooksQuoted(ln string) bool {
	l := strings.ToLower(strings.TrimSpace(ln))
	for _, p := range []string{"from:", "to:", "cc:", "bcc:", "reply-to:", "sender:", "return-path:", "received:", "message-id:", "in-reply-to:", "references:", "for <", "errors-to:", "x-"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// findBlock returns the text of addr's block, or "".
func findBlock(blocks []block, addr string) string {
	for _, b := range blocks {
		if b.addr == addr {
			return strings.Join(b.lines, "\n")
		}
	}
	return ""
}

// paragraphAround returns the paragraph of text that mentions addr, and the
// paragraph after it, or "".
func paragraphAround(text, addr string) string {
	low := strings.ToLower(text)
	i := strings.Index(low, addr)
	if addr == "" || i < 0 {
		return ""
	}
	start := strings.LastIndex(low[:i], "\n\n")
	if start < 0 {
		start = 0
	}
	end := len(text)
	if j := strings.Index(low[i:], "\n\n"); j >= 0 {
		end = i + j
		if k := strings.Index(low[end+2:], "\n\n"); k >= 0 {
			end = end + 2 + k
		} else {
			end = len(text)
		}
	}
	return text[start:end]
}

// diagnosticLineRE marks the lines that quote the remote server: an SMTP
// reply code or an enhanced status code.
var diagnosticLineRE = regexp.MustCompile(`(?:^|[\s:(\[<'"])(?:[45]\d\d[\s\-:]|[45]\.\d{1,3}\.\d{1,3})`)

// blockDiagnostic picks the words of a block worth showing an admin: the
// paragraph that quotes the remote server (an SMTP reply or status code),
// else the first paragraph whose words give a reason, else the first
// paragraph; without the lines that only repeat the address, and without
// lines that did not decode.
func blockDiagnostic(c memo, text, addr string) string {
	var paras [][]string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			paras = append(paras, cur)
			cur = nil
		}
	}
	for _, ln := range lines(text) {
		t := strings.TrimSpace(ln)
		if addr != "" {
			if a := cleanAddress(t); a == addr && len(t) <= len(addr)+4 {
				flush()
				continue
			}
		}
		if t == "" || undecoded(t) || strings.Trim(t, "-=*_ ") == "" || dsnFieldLineRE.MatchString(t) {
			flush()
			continue
		}
		cur = append(cur, t)
	}
	flush()
	// A paragraph that ends with a colon ("because:", "For the following
	// reason:") introduces the next one.
	for i := 0; i+1 < len(paras); i++ {
		p := paras[i]
		if strings.HasSuffix(p[len(p)-1], ":") {
			paras[i] = append(p, paras[i+1]...)
			paras = append(paras[:i+1], paras[i+2:]...)
		}
	}
	for _, p := range paras {
		for i, t := range p {
			if diagnosticLineRE.MatchString(t) {
				return oneLine(strings.Join(p[i:], " "))
			}
		}
	}
	for i, p := range paras {
		if i >= 8 {
			break
		}
		if r, weak := c.reason(strings.Join(p, " ")); r != "" && !weak {
			return oneLine(strings.Join(p, " "))
		}
	}
	if len(paras) > 0 {
		return oneLine(strings.Join(paras[0], " "))
	}
	return ""
}

// dsnFieldLineRE matches the delivery-status fields some MTAs quote in
// their text: machine fields, not words for an admin.
var dsnFieldLineRE = regexp.MustCompile(`(?i)^(?:final-recipient|original-recipient|x-actual-recipient|action|status|remote-mta|reporting-mta|received-from-mta|arrival-date|last-attempt-date|will-retry-until|x-postfix-[a-z-]+|x-[a-z-]+-id|original-envelope-id)\s*:`)

// undecoded reports whether a line is mostly replacement characters: text
// in a charset that did not decode says nothing to an admin.
func undecoded(s string) bool {
	n := strings.Count(s, "\uFFFD")
	return n > 0 && n*3 >= len([]rune(s))
}
