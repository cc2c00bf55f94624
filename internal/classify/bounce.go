package classify

import (
	"regexp"
	"strings"
)

// failure is one recipient of a bounce before it is judged.
type failure struct {
	addr    string
	action  string // "failed", "delayed", or "" when not said
	status  string
	diag    string // the remote server's or the bounce's own words
	primary string // the words to judge first: the remote server's
	context string // all the other text about this recipient
	guessed bool   // the address is a guess (the original's To), not named by the bounce
}

// Bounce shape signals. They are deliberately about wording and form, never
// about one provider's message: each phrase is used by several MTAs.
var (
	daemonFromRE = regexp.MustCompile(`(?i)(?:^|[^a-z])(?:mailer[-_. ]?daemon|postmaster|poostmaster|post_master|mail ?delivery ?(?:system|subsystem|service)|mail\.delivery\.system|mail deliver system|ndr administrator|e-mail interconnect|delivery ?status|no-?reply|bounce[sd]?)(?:[^a-z]|$)`)
	listAdminRE  = regexp.MustCompile(`(?i)^(?:[^@]*-(?:admin|owner|request|bounces)|owner-[^@]*)@`)

	subjectBounceRE = rx(
		`undeliver`, `undelivered`, `delivery (?:status|failure|failed|has failed|problem|notification|report)`, `failure notice`,
		`failed delivery`, `failure delivery`, `delivery failure`, `returned mail`, `mail delivery failed`, `returning message to sender`,
		`could not be delivered`, `not delivered`, `non recapitabile`, `mail system error`, `message delivery has failed`,
		`there was an error sending your mail`, `delayed mail`, `warning: message .{0,80} delayed`, `delivery delayed`,
		`non remis`, `non distribuable`, `echec (?:de la )?(?:remise|livraison|distribution)`, `message non delivre`,
		`unzustellbar`, `nicht zustellbar`, `no se puede entregar`, `mail failure`, `returned to sender`,
		`not (?:a )?member`, `delivery notification`, `nondeliverable`, `non-delivery`,
		`(?:配信|配送|送信)(?:エラー|不能|失敗)`,
	)
	bodyBounceRE = rx(
		`could not be delivered`, `couldn't be delivered`, `not be delivered`, `undeliverable`, `undelivered`,
		`delivery (?:has )?failed`, `delivery failure`, `failed permanently`, `permanent (?:error|failure|fatal)`,
		`was not delivered`, `wasn't delivered`, `did not reach`, `unable to deliver`, `could not deliver`, `couldn't deliver`,
		`wasn't able to deliver`, `delivery status notification`, `following (?:address(?:\(es\)|es)?|recipients?) (?:failed|had|could not|was|were)`,
		`recipient address rejected`, `user unknown`, `unknown user`, `no such user`, `mailbox (?:is )?full`,
		`message delivery has failed`, `error delivering`, `delivery to the following`, `has been delayed`, `has not yet been delivered`,
		`transcript of session`, `remote host said`, `said: [45]\d\d`, `smtp error`, `not a member of`, `mail system error`,
		`non remis`, `n'a pas pu (?:etre )?(?:remis|delivre|distribue|achemine)`, `echec (?:de la )?(?:remise|livraison|distribution)`,
		`impossible de (?:remettre|delivrer|distribuer|livrer)`, `nicht zugestellt`, `unzustellbar`, `error sending your mail`,
		`failed to deliver`, `delivery problem`, `rejected by`, `no valid recipients`, `were not delivered`,
		`(?:配信|配送|送信)(?:に|が)失敗`, `(?:配信|配送|送信|お届け)(?:でき|出来)ません`, `届きませんでした`, `届けることが(?:でき|出来)ません`,
	)
	delayRE = rx(
		`has been delayed`, `have been delayed`, `is delayed`, `delivery (?:is )?delayed`, `warning message only`, `this is a warning`,
		`will be retried`, `still being retried`, `has not yet been delivered`, `delay reason`, `will continue to try`,
		`no action is required on your part`, `will retry`, `delayed mail`, `message delayed`, `not yet been delivered`,
	)
	separatorRE = regexp.MustCompile(`(?i)^\s*(?:-{2,}.{0,20}(?:original|copy of|headers? of|returned message|returned mail|undelivered message|below this line|message headers|unsent message|enclosed|message header follows)` +
		`|-{3,}\s*original message` +
		`|(?:original message follows|message headers follow|original message headers|original message:|included is a copy of the message header|below is a copy of the original message|the header of the original message|original message header)` +
		`|-+\s*original (?:mail|message) info` +
		`|content-type:\s*(?:message/rfc822|text/rfc822-headers))`)
	headerStartRE = regexp.MustCompile(`^(?i:received|return-path|dkim-signature|x-received|delivered-to|authentication-results|arc-seal|arc-message-signature|x-original-to|message-id)\s*:`)
	headerLineRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*\s*:|^[ \t]+\S`)
)

// splitQuotedOriginal sets m.own to the message's own words and, when the
// text quotes a returned original and no MIME part holds one, keeps the
// quoted header as an original for the matching clues.
func (m *msg) splitQuotedOriginal() {
	own, quoted := bounceText(m)
	m.own = own
	if quoted != "" && len(m.originals) == 0 {
		if h, rest, ok := lenientHeader([]byte(strings.TrimLeft(quoted, "\n"))); ok {
			m.originals = append(m.originals, original{header: h, body: string(rest), raw: []byte(strings.TrimLeft(quoted, "\n"))})
		}
	}
}

// bounceText is the bounce's own words: its text parts up to where a quoted
// original starts, and the quoted original (headers and all) if any.
func bounceText(m *msg) (own, quoted string) {
	var b strings.Builder
	for _, t := range m.textParts() {
		b.WriteString(t)
		b.WriteString("\n")
	}
	all := b.String()
	ls := lines(all)
	for i, ln := range ls {
		if maySeparate(ln) && separatorRE.MatchString(ln) {
			return strings.Join(ls[:i], "\n"), strings.Join(ls[i+1:], "\n")
		}
		// An original pasted without a separator starts with a block of
		// header fields at the left margin.
		if i > 0 && headerStartRE.MatchString(ln) && i+2 < len(ls) && headerLineRE.MatchString(ls[i+1]) && headerLineRE.MatchString(ls[i+2]) {
			return strings.Join(ls[:i], "\n"), strings.Join(ls[i:], "\n")
		}
	}
	return all, ""
}

// maySeparate is a cheap test before separatorRE, which has no literal
// prefix: every separator has a dash or one of these word stems.
func maySeparate(ln string) bool {
	for _, w := range []string{"-", "riginal", "RIGINAL", "opy", "eader", "ontent-", "elow"} {
		if strings.Contains(ln, w) {
			return true
		}
	}
	return false
}

// looksLikeBounce weighs the shape of a message that has no
// delivery-status part.
func looksLikeBounce(m *msg, own string) bool {
	if m.header.Has("X-Failed-Recipients") {
		return true
	}
	from := strings.ToLower(m.header.Get("From"))
	daemon := daemonFromRE.MatchString(from)
	listAdmin := false
	if a := m.from(); a != "" {
		listAdmin = listAdminRE.MatchString(a)
	}
	nullSender := strings.TrimSpace(strings.Trim(strings.TrimSpace(m.header.Get("Return-Path")), "<>")) == "" && m.header.Has("Return-Path")
	subj := normalize(headerText(m.header, "Subject"))
	forwarded := strings.HasPrefix(subj, "fw") || strings.HasPrefix(subj, "tr:") || strings.HasPrefix(subj, "wg:")
	subjectBounce := subjectBounceRE.MatchString(subj) && !forwarded
	head := own
	if len(head) > 8192 {
		head = head[:8192]
	}
	bodyBounce := bodyBounceRE.MatchString(normalize(head))
	reportDSN := m.mediaType == "multipart/report" && strings.EqualFold(m.params["report-type"], "delivery-status")
	switch {
	case reportDSN && (bodyBounce || daemon || subjectBounce):
		return true
	case subjectBounce && (daemon || nullSender || bodyBounce || listAdmin):
		return true
	case (daemon || listAdmin) && bodyBounce:
		return true
	}
	return false
}

// classifyBounce recognises delivery status notifications and bounces, and
// fills res. It reports whether the message was one.
func classifyBounce(m *msg, res *Result) bool {
	if classifySESNotification(m, res) {
		return true
	}
	own := m.own

	var dsn []dsnRecipient
	for _, p := range m.parts {
		if !p.inOriginal && (p.mediaType == "message/delivery-status" || p.mediaType == "message/global-delivery-status") {
			dsn = append(dsn, parseDSN(p.body)...)
		}
	}
	hasDSN := len(dsn) > 0
	bounce := hasDSN || looksLikeBounce(m, own)
	if !bounce {
		return false
	}
	if !hasDSN {
		// Some MTAs quote the delivery-status fields in the text part.
		if s := textDSNStart(own); s != "" {
			dsn = parseDSN(s)
			hasDSN = len(dsn) > 0
		}
	}

	exclude := senderAddresses(m)
	blocks, preamble := scanRecipients(own, exclude)
	failed := headerAddresses(m.header, "X-Failed-Recipients")
	messageDelayed := delayRE.MatchString(normalize(headerText(m.header, "Subject") + "\n" + own))

	var fs []failure
	if hasDSN {
		var success int
		fs, success = dsnFailures(m, dsn, blocks, preamble, failed, messageDelayed)
		if len(fs) == 0 && success > 0 {
			res.Kind = Unknown
			res.Reason = ReasonDelivered
			return true
		}
	}
	if len(fs) == 0 {
		fs = textFailures(m, own, blocks, preamble, failed, exclude, messageDelayed)
	}
	if !named(fs) && classifyWrappedBounce(m, res) {
		return true
	}
	fillBounce(m.memo, res, fs)
	return true
}

// named reports whether any failure names its recipient.
func named(fs []failure) bool {
	for _, f := range fs {
		if f.addr != "" && !f.guessed {
			return true
		}
	}
	return false
}

// classifyWrappedBounce handles a bounce whose returned "original" is
// itself a bounce: mail gateways that relay a DSN as an attachment, and
// double bounces. When the outer message names nobody, the inner one says
// who failed and why.
func classifyWrappedBounce(m *msg, res *Result) bool {
	if m.depth >= 2 {
		return false
	}
	for _, o := range m.originals {
		ct := strings.ToLower(o.header.Get("Content-Type"))
		if len(o.raw) == 0 || !(strings.Contains(ct, "delivery-status") || daemonFromRE.MatchString(strings.ToLower(o.header.Get("From")))) {
			continue
		}
		inner := classifyAt(o.raw, m.opts, m.depth+1)
		switch inner.Kind {
		case Hard, Soft, Delayed:
		default:
			continue
		}
		if len(inner.Recipients) == 0 {
			continue
		}
		res.Kind, res.Reason, res.Status, res.Diagnostic = inner.Kind, inner.Reason, inner.Status, inner.Diagnostic
		res.Recipients = inner.Recipients
		if inner.DeliveryToken != "" {
			res.DeliveryToken = inner.DeliveryToken
		}
		if inner.CampaignID != "" {
			res.CampaignID = inner.CampaignID
		}
		if inner.OriginalMessageID != "" {
			res.OriginalMessageID = inner.OriginalMessageID
		}
		if res.VERPToken == "" {
			res.VERPToken = inner.VERPToken
		}
		return true
	}
	return false
}

// hasWords reports whether s has at least two words of letters.
func hasWords(s string) bool {
	n := 0
	for _, w := range strings.Fields(s) {
		for _, r := range w {
			if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r > 127 {
				n++
				break
			}
		}
	}
	return n >= 2
}

// dsnFailures turns the per-recipient blocks of delivery-status parts into
// failures, with the text part's words where the fields say too little. It
// also counts the recipients reported delivered.
func dsnFailures(m *msg, dsn []dsnRecipient, blocks []block, preamble string, failed []string, messageDelayed bool) (fs []failure, success int) {
	for i, d := range dsn {
		if d.address == "" {
			// A recipient block without a usable address: borrow it
			// from the other places bounces name it.
			switch {
			case i < len(failed):
				d.address = failed[i]
			case i < len(blocks):
				d.address = blocks[i].addr
			}
		}
		switch d.action {
		case "delivered", "relayed", "expanded":
			success++
			continue
		}
		if d.address == "" && d.diagnostic == "" && d.status == "" {
			continue
		}
		// The code the remote server quoted in its reply is its own;
		// the Status field is the reporting MTA's translation, often a
		// bare x.0.0.
		st := quotedStatus(d.diagnostic)
		if st == "" {
			st = d.status
		}
		if st == "" {
			st = inferStatus(d.diagnostic)
		}
		f := failure{addr: d.address, action: d.action, status: st, diag: d.diagnostic, primary: d.diagnostic}
		b := findBlock(blocks, d.address)
		if b == "" && len(dsn) == 1 {
			b = m.own
		}
		f.context = strings.Join([]string{b, d.statusText}, "\n")
		if !hasWords(f.diag) {
			// No Diagnostic-Code, or a bare exit code: the text part
			// says it in words.
			bd := blockDiagnostic(m.memo, b, d.address)
			if bd == "" && len(dsn) == 1 {
				bd = blockDiagnostic(m.memo, preamble, d.address)
			}
			if bd == "" {
				bd = d.statusText
			}
			f.diag = strings.TrimSpace(f.diag + " " + bd)
			// No Diagnostic-Code: the text part may quote the
			// server's reply with a more precise code.
			if qs := quotedStatus(f.diag); qs != "" && (f.status == "" || (strings.HasSuffix(f.status, ".0.0") && qs[0] == f.status[0])) {
				f.status = qs
			}
		}
		if f.action == "" {
			f.action = actionFor(f.status, messageDelayed)
		}
		fs = append(fs, f)
	}
	return fs, success
}

// actionFor infers the DSN action a bounce did not state.
func actionFor(status string, messageDelayed bool) string {
	if messageDelayed && !strings.HasPrefix(status, "5.") {
		return "delayed"
	}
	return "failed"
}

// textFailures reads the failed recipients of a bounce that has no
// delivery-status fields, from its text.
func textFailures(m *msg, own string, blocks []block, preamble string, failed []string, exclude map[string]bool, delayed bool) []failure {
	var addrs []string
	guessed := false
	switch {
	case len(failed) > 0:
		// Exim and Gmail list the failed recipients in a header: the most
		// reliable source there is.
		addrs = failed
	case len(blocks) > 0:
		for _, b := range blocks {
			addrs = append(addrs, b.addr)
		}
	default:
		for _, a := range findAddresses(own) {
			if !exclude[a] && !isRobotAddress(a) {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			for _, o := range m.originals {
				addrs = append(addrs, headerAddresses(o.header, "To")...)
				if len(addrs) > 0 {
					guessed = true
					break
				}
			}
		}
		if len(addrs) > 1 {
			// Free-text addresses with no recognised layout: only the
			// first is a safe guess.
			addrs = addrs[:1]
		}
	}
	var fs []failure
	for _, a := range dedupe(addrs) {
		b := findBlock(blocks, a)
		if b == "" {
			b = paragraphAround(own, a)
		}
		ctx := b
		if r, _ := m.memo.reason(ctx); r == "" {
			ctx = preamble + "\n" + b
			if r, _ := m.memo.reason(ctx); r == "" {
				if r, _ := m.memo.reason(own); r != "" {
					ctx = own
				}
			}
		}
		f := failure{addr: a, primary: ctx, guessed: guessed}
		f.status = inferStatus(b)
		if f.status == "" && len(addrs) == 1 {
			f.status = inferStatus(own)
		}
		f.diag = blockDiagnostic(m.memo, b, a)
		if f.diag == "" {
			f.diag = blockDiagnostic(m.memo, ctx, a)
		}
		if len(addrs) == 1 && !diagnosticLineRE.MatchString(f.diag) {
			// Some bounces give the server's reply before naming the
			// recipient ("Error message below: 550 ...").
			if pd := blockDiagnostic(m.memo, preamble, a); diagnosticLineRE.MatchString(pd) {
				f.diag = pd
			}
		}
		f.action = actionFor(f.status, delayed)
		fs = append(fs, f)
	}
	if len(fs) == 0 {
		// A bounce that names nobody still says why it failed.
		st := inferStatus(own)
		fs = append(fs, failure{status: st, primary: own, diag: blockDiagnostic(m.memo, own, ""), action: actionFor(st, delayed)})
	}
	return fs
}

// fillBounce judges each failure and writes the result.
func fillBounce(c memo, res *Result, fs []failure) {
	seen := map[string]bool{}
	kind := Unknown
	first := true
	for _, f := range fs {
		reason, k := judge(c, f.primary, f.context, f.status, f.action, phaseOf(f.primary+"\n"+f.context))
		if first {
			res.Reason = reason
			res.Status = f.status
			res.Diagnostic = oneLine(f.diag)
			first = false
		}
		kind = worse(kind, k)
		if f.addr == "" || seen[f.addr] {
			continue
		}
		seen[f.addr] = true
		res.Recipients = append(res.Recipients, Recipient{
			Address:    f.addr,
			Action:     f.action,
			Status:     f.status,
			Diagnostic: oneLine(f.diag),
			Reason:     reason,
			Kind:       k,
		})
	}
	if kind == Unknown {
		kind = Soft
	}
	res.Kind = kind
}

// worse returns the kind that wins when one bounce reports several
// recipients: one dead address makes the message a hard bounce, any
// failure makes it at least soft, and delays count only alone.
func worse(a, b Kind) Kind {
	rank := func(k Kind) int {
		switch k {
		case Hard:
			return 3
		case Soft:
			return 2
		case Delayed:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// senderAddresses returns the addresses that cannot be failed recipients:
// the bounce's own sender and recipient (the original's envelope sender)
// and the original's author.
func senderAddresses(m *msg) map[string]bool {
	ex := map[string]bool{}
	// Not Delivered-To or X-Original-To: some MTAs (DragonFly) copy the
	// failed recipient there.
	for _, k := range []string{"From", "To", "Cc", "Return-Path", "Sender", "Reply-To"} {
		for _, a := range headerAddresses(m.header, k) {
			ex[a] = true
		}
	}
	for _, o := range m.originals {
		for _, k := range []string{"From", "Return-Path", "Sender", "Reply-To", "Errors-To"} {
			for _, a := range headerAddresses(o.header, k) {
				ex[a] = true
			}
		}
	}
	return ex
}

// isRobotAddress reports whether a is a mail system's own address.
func isRobotAddress(a string) bool {
	lp := localPart(a)
	switch lp {
	case "mailer-daemon", "postmaster", "mailer_daemon", "mailerdaemon", "root", "abuse", "support", "no-reply", "noreply":
		return true
	}
	return false
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range in {
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
