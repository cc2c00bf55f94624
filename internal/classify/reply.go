package classify

import (
	"strconv"
	"strings"
)

// Refusal is a relay's permanent refusal of one recipient, answered in the
// SMTP session itself (to RCPT TO, or at the end of DATA) rather than in a
// bounce mailed later, judged by the rules that judge bounces.
type Refusal struct {
	// Kind is Hard when the address itself is dead (no such user, no such
	// domain), Soft for every other permanent refusal (policy, spam,
	// blocked, message too big), and "" when the reply is no permanent
	// refusal at all (a 4xx, no reply).
	Kind Kind
	// Reason is the classifier's reason: user_unknown, policy, ...
	Reason string
	// RelayWide is a refusal of the session rather than of the recipient:
	// relaying denied, the sender refused, authentication or TLS required,
	// the relay's own sending quota used up. Every other recipient would
	// get the same answer, so it says nothing about the address, whatever
	// Kind and Reason say.
	RelayWide bool
}

// JudgeReply judges a relay's reply to the SMTP command command ("RCPT TO",
// "DATA", "DATA (end)"): code is the basic reply code, enhanced the RFC 3463
// code ("5.1.1", or "" when the relay gave none) and text the rest of the
// reply. Only a 5xx is judged: a temporary refusal is retried, not judged.
//
// The words come first, as in a bounce: "550 5.1.1 mailbox full" is a full
// mailbox. A refusal after DATA of an address the relay had accepted at
// RCPT TO is hard only when the relay said 5.1.1 in so many words.
func JudgeReply(command string, code int, enhanced, text string) Refusal {
	if code/100 != 5 {
		return Refusal{}
	}
	status := enhanced
	if status == "" {
		status = inferStatus(strconv.Itoa(code) + " " + text)
	}
	// The diagnostic as a bounce would quote it, so that an enhanced code
	// of the policy class (5.7.x) keeps "user unknown" words from being
	// taken for a dead address.
	diag := strings.Join(strings.Fields(strconv.Itoa(code)+" "+enhanced+" "+text), " ")
	phase := phaseUnknown
	switch strings.ToUpper(command) {
	case "MAIL FROM":
		phase = phaseSender
	case "RCPT TO":
		phase = phaseRcpt
	case "DATA", "DATA (END)":
		phase = phaseData
	}
	reason, kind := judge(nil, diag, "", status, "failed", phase)
	return Refusal{Kind: kind, Reason: reason, RelayWide: phase == phaseSender || relayWide(reason, status, text)}
}

// relayQuotaRE is the relay's own sending limit, which reads like a full
// mailbox ("daily sending quota exceeded") but stops every recipient.
var relayQuotaRE = rx(`sending (?:quota|limit)`, `(?:daily|hourly) (?:user )?(?:message |sending )?(?:quota|limit)`,
	`message limit (?:exceeded|reached)`, `quota (?:of )?(?:messages|emails|recipients)`)

// relayWide reports whether a refusal judged reason, with status and the
// relay's text, refuses the session rather than the recipient.
func relayWide(reason, status, text string) bool {
	switch reason {
	case ReasonNoRelaying, ReasonSecurity, ReasonRateLimited:
		return true
	}
	// 5.1.7 and 5.1.8: the sender's address is bad.
	if strings.HasSuffix(status, ".1.7") || strings.HasSuffix(status, ".1.8") {
		return true
	}
	n := normalize(text)
	if relayQuotaRE.MatchString(n) {
		return true
	}
	// A refusal of the sender is often worded with words of another
	// reason too ("Sender address rejected: Access denied"), so the
	// sender rules are tried on their own.
	for _, r := range reasonRules {
		if r.reason == ReasonRejected && !r.weak && r.re.MatchString(n) {
			return true
		}
	}
	return false
}
