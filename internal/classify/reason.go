package classify

import (
	"regexp"
	"regexp/syntax"
	"strings"

	"bulletin/internal/unaccent"
)

// reasonRule ties a reason to the wording that reveals it. Rules are tried
// in order and the first match wins, so the order encodes precedence: a
// "mailbox full" text beats a 5.1.1 code, a DNS "try again" beats "host not
// found", and the dead-address rules come before the generic refusals that
// often share a sentence with them.
type reasonRule struct {
	reason string
	re     *matcher
	// weak rules match words that any refusal may use ("rejected",
	// "denied"): a specific status code says more than they do.
	weak bool
}

// matcher matches any of a list of patterns. Each pattern is compiled on
// its own so that its literal prefix, when it has one, can rule it out with
// a plain substring search: one big alternation has no prefix and runs the
// slow general matcher over every byte of every bounce.
type matcher struct {
	res     []*regexp.Regexp
	needles []string // a literal each match must contain, or ""
}

// rx compiles alternatives that are matched against normalize()d text:
// lower case, single spaces, no accents. The patterns go through the same
// accent stripping, so that Japanese words keep their meaning once their
// voicing marks are gone ("でき" reads "てき" on both sides).
func rx(alts ...string) *matcher {
	m := &matcher{}
	for _, a := range alts {
		a = unaccent.String(a)
		m.res = append(m.res, regexp.MustCompile(a))
		m.needles = append(m.needles, requiredLiteral(a))
	}
	return m
}

// requiredLiteral returns the longest literal that every match of pattern
// contains: the longest literal among the top-level sequence of the
// pattern, or its prefix.
func requiredLiteral(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	best := ""
	consider := func(r *syntax.Regexp) {
		if r.Op == syntax.OpLiteral && r.Flags&syntax.FoldCase == 0 && len(string(r.Rune)) > len(best) {
			best = string(r.Rune)
		}
	}
	switch re.Op {
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			consider(sub)
		}
	default:
		consider(re)
	}
	return best
}

// MatchString reports whether any pattern matches s.
func (m *matcher) MatchString(s string) bool {
	for i, re := range m.res {
		if n := m.needles[i]; n != "" && !strings.Contains(s, n) {
			continue
		}
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

var reasonRules = []reasonRule{
	// A local delivery program that failed speaks of users and files in
	// its own terms ("procmail: ... No such user"): its failure is the
	// mailer's, not proof that the address is dead.
	{ReasonMailerError, rx(`procmail:`, `pipe to \|`, `mailer error`, `command (?:died|failed)`, `x-unix;`, `unknown mailer`), false},
	// Temporary name-service trouble reads like "host not found" but is not
	// a dead domain.
	{ReasonNetwork, rx(
		`name service error.{0,80}try again`,
		`host not found, try again`,
		`temporary (?:dns|name ?server|lookup) (?:failure|error)`,
		`dns (?:lookup )?(?:timeout|timed out|servfail)`,
		`servfail`, `temporary failure in name resolution`,
		`(?:dns|name server|name service) .{0,60}try again`, `(?:dns|name server|name service) .{0,60}temporar`,
		`lookup fail(?:ure|ed).{0,40}try again`, `lookup fail(?:ure|ed).{0,40}temporar`,
	), false},
	{ReasonMailboxFull, rx(
		`mailbox (?:is |was )?full`, `mail ?box full`, `mailfolder is full`, `mailbox (?:has )?exceeded`,
		`over ?quota`, `quota (?:exceeded|full|reached)`, `exceeded (?:its |the |his |her |their )?(?:storage |mailbox |disk )?quota`,
		`exceeds? (?:the )?(?:storage|mailbox|disk) (?:quota|allocation|limit)`,
		`mailbox size limit`, `storage (?:quota|limit|allocation|space) (?:exceeded|reached|full)`,
		`storage quota`, `insufficient (?:free |disk |storage )?(?:space|storage)`, `not enough (?:free |disk |storage )?(?:space|storage)`,
		`disk quota`, `(?:too many|number of) messages in (?:the |this |recipient'?s )?mailbox`,
		`account is full`, `user'?s? (?:mailbox|mail ?folder|mail ?box) is full`,
		`boite (?:aux lettres |mail |de reception )?(?:est )?(?:pleine|saturee)`, `boite aux lettres [^.]{0,40}(?:pleine|saturee)`, `quota (?:depasse|atteint)`, `espace (?:disque )?insuffisant`,
		`postfach (?:ist )?voll`, `mailbox is over`, `exceeded storage allocation`, `mailbox exceeds`,
		`容量.{0,10}(?:超え|超過|オーバー)`, `(?:メールボックス|受信箱).{0,10}いっぱい`, `(?:メールボックス|受信箱).{0,10}満杯`,
	), false},
	{ReasonSuspended, rx(
		`account (?:is |has been |was )?(?:disabled|suspended|inactive|deactivated|frozen|locked|expired|on hold)`,
		`mailbox (?:is |has been )?(?:disabled|frozen|inactive|suspended|locked|deactivated)`, `mail box (?:is |has been )?(?:disabled|frozen|inactive|suspended|locked|deactivated)`,
		`disabled (?:recipient|user|mailbox|account|address)`, `suspended (?:recipient|user|mailbox|account|address)`, `inactive (?:recipient|user|mailbox|account|address)`, `deactivated (?:recipient|user|mailbox|account|address)`, `frozen (?:recipient|user|mailbox|account|address)`,
		`account that you tried to reach is (?:disabled|inactive)`,
		`recipient (?:address )?(?:is )?(?:disabled|suspended|inactive)`,
		`user (?:is )?(?:inactive|suspended|disabled)`,
		`compte .{0,40}(?:bloque|desactive|suspendu|inactif)`, `account .{0,20}is blocked`,
		`has been disabled`, `temporarily (?:disabled|suspended)`,
	), false},
	{ReasonOnHold, rx(`\bon hold\b`), false},
	{ReasonHasMoved, rx(
		`(?:user|mailbox|recipient|address) has moved`, `has moved to`, `not local; please (?:try|forward)`,
		`address (?:has )?changed`, `has been replaced by`, `user has changed`,
	), false},
	{ReasonNotAccept, rx(
		`does not accept (?:any )?(?:e-?)?mail`, `accepts no (?:e-?)?mail`, `null mx`,
		`no mx (?:record )?(?:found )?for domain`, `mx or srv record indicated no smtp service`,
		`(?:couldn't|could not|unable to) find a mail exchanger`, `no mail exchanger`,
		`domain (?:does not|doesn't) (?:receive|accept) (?:e-?)?mail`, `no mx (?:record )?found`,
	), false},
	{ReasonHostUnknown, rx(
		`host (?:or domain name )?(?:unknown|not found)`, `unknown host`, `no such (?:domain|host)`,
		`domain (?:name )?(?:not found|does not exist|doesn't exist|unknown|may not exist|is not registered|nonexistent)`,
		`unknown (?:mail )?domain`, `unroutable (?:mail )?domain`, `unrouteable (?:mail )?domain`, `name or service not known`, `nxdomain`,
		`(?:couldn't|could not) find any host named`, `illegal host/domain name`,
		`all (?:relevant )?mx records point to non-?existent hosts`, `domain must exist`,
		`domaine (?:inconnu|introuvable|inexistant)`, `le domaine .{0,60}n'existe pas`,
		`(?:^|[\s:<(])(?:[a-z0-9-]+\.)+[a-z]{2,}>? does not exist`,
		`domain is not reachable.{0,40}check the domain`,
		// With the temporary failures ruled out above, a failed lookup in
		// a permanent failure means the name does not resolve.
		`dns lookup fail(?:ure|ed)`,
		`ドメイン.{0,20}(?:存在しません|見つかりません)`,
	), false},
	{ReasonUserUnknown, rx(
		`user unknown`, `unknown user`, `user(?:name)? not found`, `recipient not found`,
		`no such (?:user|mailbox|recipient|account|address|person|local user|e-?mail)`,
		`unknown (?:recipient|local[- ]?part|mailbox|account|e-?mail address|address)`,
		`recipient (?:address )?(?:unknown|does not exist|doesn't exist|is not valid|invalid)`,
		`recipient address rejected: (?:user unknown|undeliverable address|unknown|invalid)`,
		`(?:mailbox|user|account|recipient|address|addressee|e-?mail address|email account) (?:does not|doesn't|dose not) exist`,
		`mailbox (?:not found|unknown|not present|is unknown|name not allowed)`,
		`invalid (?:recipient|mailbox|user|final delivery userid|e-?mail address)`,
		`address (?:unknown|not found)`, `addressee unknown`,
		`user (?:is )?not (?:known|listed|local|found)`, `not listed in (?:the )?(?:domino )?(?:directory|public name & address book|address book)`,
		`recipient name is not recognized`, `no mailbox here by that name`, `unrouteable address`, `unroutable address`,
		`unknown or illegal (?:user|alias)`, `is not a valid (?:mailbox|user|recipient|e-?mail)`,
		`(?:user )?doesn't have an? .{1,60} account`, `does not have an? .{1,60} account`,
		`email address (?:wasn't|was not|couldn't be|could not be) found`, `bad destination mailbox address`,
		`unknown in (?:local|virtual|relay) (?:recipient|alias) table`, `not a known user`, `no account by that name`,
		`account (?:has been )?(?:closed|deleted|removed|terminated|cancelled|canceled)`, `address (?:is )?no longer (?:valid|active|in use)`,
		`no longer (?:available|exists)`, `no valid recipients`,
		`utilisateur (?:inconnu|introuvable|inexistant)`, `destinataire (?:inconnu|invalide|introuvable|inexistant)`,
		`adresse (?:e-?mail |mail |electronique |de messagerie )?(?:du destinataire )?(?:est )?(?:inconnue?|invalide|inexistante|introuvable)`,
		`boite (?:aux lettres |mail |de reception )?(?:est )?(?:introuvable|inexistante|inconnue|n'existe pas)`,
		`boite aux lettres [^.]{0,40}(?:introuvable|inexistante|inconnue)`,
		`compte (?:inexistant|inconnu|introuvable)`, `(?:adresse|destinataire|utilisateur|boite|compte|mailbox|user|recipient)[^.]{0,40}n'existe pas`,
		`(?:user|recipient|mailbox|address) not exists?\b`,
		// Microsoft's directory-based edge blocking refuses unknown
		// recipients with this exact pairing.
		`5\.4\.1 .{0,100}recipient address rejected: access denied`,
		`benutzer unbekannt`, `unbekannter (?:benutzer|empfanger)`, `existiert nicht`, `usuario desconocido`, `utente sconosciuto`,
		`(?:アドレス|ユーザ|宛先|あて先|アカウント|メールボックス).{0,20}存在しません`,
		`(?:アドレス|ユーザ|宛先|あて先|アカウント|メールボックス).{0,20}見つかりません`, `宛先不明`,
	), false},
	{ReasonExpired, rx(
		`cannot send message for \d+ days?`, `could not be delivered for \d+`, `message (?:could not be delivered|has been in the queue|was not delivered) (?:for|within)`,
		`queue too long`, `too long in (?:the )?queue`, `(?:message|delivery) (?:time |period )?expired`, `expired in queue`,
		`retry time(?:out)? (?:not reached|exceeded)`, `unable to deliver (?:message )?(?:in|after) (?:\d+|multiple)`,
		`after multiple retries`, `retry timeout exceeded`, `envelope expired`, `was not delivered within`, `delivery attempts? (?:will stop|stopped|expired)`,
		`maximum (?:queue|delivery) (?:time|lifetime)`, `message will be deleted from queue`, `giving up on (?:this|the) message`,
		`did not accept our requests to connect`, `(?:could not|couldn't|unable to) deliver for (?:the last )?\d+`,
	), false},
	{ReasonNetwork, rx(
		`connection (?:timed out|refused|reset|lost|closed|dropped)`, `timed out`, `no route to host`, `host (?:is )?unreachable`,
		`network (?:is )?unreachable`, `host not reachable`, `could not (?:connect|establish)`, `couldn't (?:connect|establish)`, `unable to (?:connect|establish)`, `failed to (?:connect|establish)`,
		`wasn't able to establish`, `socket error`, `not responding`, `lost connection`, `connection to .{0,60}failed`,
		`mail (?:loop|routing loop)`, `loop(?:s)? back to myself`, `too many hops`, `hop count exceeded`, `routing loop`, `loop detected`,
		`name service error`, `temporary lookup failure`, `dns (?:error|failure)`,
	), false},
	{ReasonTooBig, rx(
		`message (?:size )?(?:is )?too (?:big|large)`, `size limit`, `exceeds? (?:the )?(?:maximum )?(?:allowed )?(?:message )?size`,
		`message size exceeds`, `message length exceeds`, `too large`, `message taille`, `message trop (?:gros|volumineux)`,
	), false},
	{ReasonAuthFailure, rx(
		`dmarc`, `spf\b`, `dkim`, `sender policy framework`, `unauthenticated (?:e-?)?mail`, `not pass (?:dmarc|spf|dkim)`,
		`authentication (?:check )?(?:failed|failure)`, `failed (?:spf|dkim|dmarc)`,
	), false},
	// Block lists are named after spam but list the sending IP.
	{ReasonBlocked, rx(`spamhaus`, `spamcop`, `dnsbl`, `\brbl\b`, `blocked using`, `block ?list`, `black ?list`, `listed (?:at|in|on|by)`), false},
	{ReasonVirus, rx(`virus`, `malware`, `infected`, `trojan`), false},
	{ReasonSpam, rx(
		`spam`, `unsolicited`, `bulk (?:e-?)?mail`, `junk`, `blacklisted url`, `uribl`, `surbl`, `scored too high`,
		`looks like spam`, `dangerous content`, `indesirable`, `pourriel`, `classified as bulk`,
	), false},
	{ReasonRateLimited, rx(
		`too many (?:connections|messages|recipients|concurrent|simultaneous|mails|sessions|errors)`, `rate limit`, `rate-limit`, `ratelimit`,
		`throttl`, `temporarily (?:deferred|rate limited)`, `exceeded .{0,40}(?:sending|rate|connection|message) limit`, `unusual rate`,
		`slow down`, `receiving mail at a rate`, `unexpected volume`, `trop de (?:connexions|messages)`, `limite de debit`, `exceeded the maximum number`,
	), false},
	{ReasonNoRelaying, rx(
		`relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited|not allowed|refused)`, `not permitted to relay`,
		`unable to relay`, `we do not relay`, `cannot relay`, `rcpthosts`, `no relaying`, `relaying (?:is )?not allowed`, `relais (?:refuse|interdit)`,
	), false},
	{ReasonBlocked, rx(
		`blocked`, `block ?list`, `black ?list`, `listed (?:at|in|on|by)`, `\brbl\b`, `dnsbl`, `spamhaus`, `spamcop`, `sorbs`,
		`barracuda`, `abuseat`, `access denied`, `reputation`, `not allowed to send`, `banned`, `reverse dns`, `ptr record`, `\brdns\b`,
		`no reverse`, `reverse (?:lookup|dns)`, `smtp server of your isp`, `dynamic ip`, `dial-?up`, `residential`, `weren't sent`,
		`client host .{0,60}(?:rejected|refused)`, `your ip`, `sending ip`, `ip address .{0,40}(?:rejected|refused|not allowed)`,
		`connection rejected`, `open relay`, `bloque`, `refuse pour des raisons`, `adresse ip .{0,40}(?:refus|rejet)`,
		`poor sending`, `unverifyable sending`, `not accepted from your`,
	), false},
	{ReasonSecurity, rx(
		`tls\b`, `ssl\b`, `certificate`, `starttls`, `encryption required`, `authentication required`, `must be authenticated`,
	), false},
	{ReasonContent, rx(
		`header error`, `content (?:rejected|error|refused)`, `illegal (?:character|header)`, `invalid (?:header|mime|message)`, `malformed`,
		`bare lf`, `line too long`, `rfc ?5322`, `rfc ?2822`, `rfc ?822`, `not (?:rfc|standard) compliant`, `attachment`, `message content`,
		`no (?:from|date|message-id) header`, `missing (?:from|date|message-id)`,
	), false},
	{ReasonRejected, rx(
		`sender address rejected`, `sender (?:address |domain )?(?:is )?(?:invalid|unknown|does not exist|not allowed|rejected|refused)`,
		`domain of sender`, `sender verify failed`, `provide a valid from`, `from: domain is invalid`, `not (?:a )?member`,
		`you are not (?:a |an )?(?:member|subscriber|allowed)`, `sender is not (?:a |an )?(?:member|subscriber|allowed)`, `not allowed to post`, `no permission to post`,
		`invalid sender`, `mail from .{0,60}(?:rejected|refused)`,
	), false},
	{ReasonFiltered, rx(
		`message filtered`, `domain filter`, `content filter`, `filtered`, `refuses? to receive`, `recipient preferences`,
	), false},
	{ReasonPolicy, rx(
		`policy`, `not permitted`, `prohibited`, `not authori[sz]ed`, `administrative prohibition`, `denied`, `forbidden`,
		`restricted`, `not allowed`, `politique`, `interdit`,
	), true},
	{ReasonMailerError, rx(
		`pipe to \|`, `mailer error`, `command (?:died|failed)`, `exit (?:code|status)`, `x-unix`, `unknown mailer`, `procmail`,
		`child status`, `local delivery failed`,
	), false},
	{ReasonSystemError, rx(
		`system error`, `internal (?:server )?error`, `local error`, `temporary (?:local )?problem`, `i/o error`,
		`resources? temporarily unavailable`, `server (?:is )?busy`, `service (?:is )?(?:temporarily )?(?:unavailable|not available)`,
		`system (?:is )?(?:busy|overloaded|full|not available)`, `out of memory`, `erreur (?:systeme|interne)`, `ldap`,
		`server error`, `processing error`, `configuration error`, `protocol error`, `try again later`, `service refuse`,
	), false},
	// A permanent refusal that names nothing but the recipient: the
	// server's stock answer for an address it does not have, when it
	// gives no other reason. RFC 5321's own text for 550 is "Requested
	// action not taken: mailbox unavailable", which Outlook.com and
	// Hotmail return for their unknown users (Microsoft documents it
	// beside 5.1.10 "recipient not found"); a 450 with the same words is a
	// busy mailbox and is not matched. "Recipient address rejected." with
	// nothing after it is the other stock form (a refusal of the sender's
	// address is matched earlier): Postfix's own refusals always say why
	// after a colon ("Recipient address rejected: Access denied"). Any
	// other reason in the same text is matched by an earlier rule, and a
	// code that names a cause (5.2.1, 5.7.1) outranks these weak rules.
	{ReasonUserUnknown, rx(
		`(?:^|[^\d.])5\d\d[^\d.].{0,60}mailbox (?:is )?unavailable`,
		`address rejected(?:\.|$)`,
	), true},
	{ReasonRejected, rx(`rejete`, `rejected`, `refused`, `refuse`, `not accepted`), true},
}

// memo remembers textReason's answers during one classification: the same
// bounce text is judged several times (for each recipient, for the
// diagnostic, for the whole message).
type memo map[string]reasonHit

type reasonHit struct {
	reason string
	weak   bool
}

// reason is textReason, remembered; a nil memo just computes.
func (c memo) reason(s string) (string, bool) {
	if c == nil {
		return textReason(s)
	}
	if h, ok := c[s]; ok {
		return h.reason, h.weak
	}
	r, w := textReason(s)
	c[s] = reasonHit{r, w}
	return r, w
}

// textReason returns the first reason whose wording appears in s, or "",
// and whether the rule that matched is a weak one.
func textReason(s string) (string, bool) {
	n := normalize(s)
	if n == "" {
		return "", false
	}
	for _, r := range reasonRules {
		if r.re.MatchString(n) {
			return r.reason, r.weak
		}
	}
	return "", false
}

// statusReason maps an RFC 3463 enhanced status code to the reason it
// stands for, for when the words say nothing we recognise.
func statusReason(code string) string {
	parts := strings.SplitN(code, ".", 3)
	if len(parts) != 3 {
		return ""
	}
	sub := parts[1] + "." + parts[2]
	switch sub {
	case "1.1", "1.3":
		return ReasonUserUnknown
	case "1.2":
		return ReasonHostUnknown
	case "1.6":
		return ReasonHasMoved
	case "1.10":
		return ReasonNotAccept
	case "1.0", "1.4", "1.5", "1.7", "1.8", "1.9":
		return ReasonRejected
	case "2.1":
		return ReasonSuspended
	case "2.2", "3.1":
		return ReasonMailboxFull
	case "2.3", "3.4":
		return ReasonTooBig
	case "2.0":
		return ReasonFiltered
	case "4.4":
		return ReasonHostUnknown
	case "4.7":
		return ReasonExpired
	case "7.1":
		return ReasonBlocked
	case "7.13":
		return ReasonSuspended
	case "7.17":
		return ReasonHasMoved
	case "7.23", "7.24", "7.25", "7.26", "7.27", "7.20", "7.21", "7.22":
		return ReasonAuthFailure
	case "7.9", "7.8", "7.10", "7.11", "7.4", "7.5", "7.6", "7.7":
		return ReasonSecurity
	}
	switch parts[1] {
	case "2":
		return ReasonMailboxFull
	case "3":
		return ReasonSystemError
	case "4":
		return ReasonNetwork
	case "5":
		return ReasonSystemError
	case "6":
		return ReasonContent
	case "7":
		return ReasonPolicy
	}
	return ""
}

// hardReason reports whether reason means the address itself is dead.
func hardReason(reason string) bool {
	switch reason {
	case ReasonUserUnknown, ReasonHostUnknown, ReasonHasMoved, ReasonNotAccept:
		return true
	}
	return false
}

// statusRE finds enhanced status codes; statusAt checks their surroundings.
var statusRE = regexp.MustCompile(`[245]\.\d{1,3}\.\d{1,3}`)

// findStatus returns the first RFC 3463 code in s that is not part of a
// longer dotted number (an IP address, a version), or "".
func findStatus(s string) string {
	for _, loc := range statusRE.FindAllStringIndex(s, -1) {
		if loc[0] > 0 {
			c := s[loc[0]-1]
			if c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
				continue
			}
		}
		if loc[1] < len(s) {
			c := s[loc[1]]
			if c >= '0' && c <= '9' {
				continue
			}
			if c == '.' && loc[1]+1 < len(s) && s[loc[1]+1] >= '0' && s[loc[1]+1] <= '9' {
				continue
			}
		}
		return s[loc[0]:loc[1]]
	}
	return ""
}

// replyCodeRE finds a basic SMTP reply code where bounces quote one: at the
// start of a line (after "<<<" or white space), or after "said:", "with:",
// "reason:", "ERROR_CODE :", "]:" and the like.
var replyCodeRE = regexp.MustCompile(`(?im)(?:^[\s<>]*|said:?\s*|with:?\s*|reason:\s*|returned:?\s*'?|error_code\s*:\s*|\]:\s*|error:?\s+|\(reason:\s*|host said:\s*|response:?\s*|\d\s*:\s*)([245][0-9][0-9])(?:[\s\-:,.]|$)`)

// findReplyCode returns the first quoted failure reply code (4xx or 5xx) in
// s, or "".
func findReplyCode(s string) string {
	if !hasReplyDigits(s) {
		return ""
	}
	for _, m := range replyCodeRE.FindAllStringSubmatch(s, -1) {
		if m[1][0] == '4' || m[1][0] == '5' {
			return m[1]
		}
	}
	return ""
}

// repliedStatusRE finds an enhanced code right after a reply code
// ("550 5.1.1", "550-'5.7.1"): the remote server's own code, which beats a
// relay's label quoted earlier in the same line.
var repliedStatusRE = regexp.MustCompile(`[45]\d\d[ -]'?#?([245]\.\d{1,3}\.\d{1,3})`)

// quotedStatus returns the remote server's enhanced code in s, or "".
func quotedStatus(s string) string {
	for _, m := range repliedStatusRE.FindAllStringSubmatch(s, -1) {
		if st := findStatus(m[1]); st != "" && findStatus(s[strings.Index(s, m[0]):]) == st {
			return st
		}
	}
	return findStatus(s)
}

// hasReplyDigits reports whether s has a 4xx or 5xx digit run at all, a
// cheap test before replyCodeRE, which has no literal prefix.
func hasReplyDigits(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if (s[i] == '4' || s[i] == '5') && s[i+1] >= '0' && s[i+1] <= '9' && s[i+2] >= '0' && s[i+2] <= '9' {
			return true
		}
	}
	return false
}

// inferStatus returns the enhanced code quoted in s, else the class of its
// reply code ("550" gives "5.0.0"), else "".
func inferStatus(s string) string {
	if st := quotedStatus(s); st != "" {
		return st
	}
	if rc := findReplyCode(s); rc != "" {
		return rc[:1] + ".0.0"
	}
	return ""
}

// smtpPhase is the SMTP command a failure answered, as far as the bounce
// tells it.
type smtpPhase int

const (
	phaseUnknown smtpPhase = iota
	phaseSender            // connection, HELO/EHLO or MAIL FROM: the recipient was never judged
	phaseRcpt              // RCPT TO: the recipient was judged
	phaseData              // DATA or end of data: the recipient had been accepted
)

var (
	phaseSenderRE = rx(
		`in reply to (?:mail from|ehlo|helo)`, `after (?:mail from|ehlo|helo|initial connection)`, `sender was rejected`,
		`\[mail_from\]`, `>>> mail from`, `greeting (?:was rejected|failed)`, `smtp command\s*:?\s*mail`,
	)
	phaseRcptRE = rx(
		`in reply to rcpt`, `after rcpt`, `rcpt to response`, `does not like recipient`, `our rcpt to`, `\[rcpt_to\]`,
		`smtp:rcpt`, `>>> rcpt to`, `smtp command\s*:?\s*rcpt`, `recipient address rejected`,
	)
	phaseDataRE = rx(
		`in reply to (?:end of )?data`, `after (?:end of )?data`, `our final data`, `\(data\)`, `>>> data`,
		`smtp command\s*:?\s*data`, `-+\s*smtp command\s*data`, `failed after i sent the message`, `\[data\]`,
	)
)

// transcriptFailRE finds a refusal in an SMTP transcript.
var transcriptFailRE = regexp.MustCompile(`<<< [45]\d\d`)

// phaseOf reads the SMTP phase of a failure from its text.
func phaseOf(s string) smtpPhase {
	n := normalize(s)
	// A Sendmail transcript says which command drew the failure: the last
	// ">>> COMMAND" before the first "<<< 4xx/5xx". With pipelining,
	// RCPT TO and DATA leave together and the transcript shows DATA; a
	// second refusal after the first (the answer to DATA, "no valid
	// recipients") shows that the first answered RCPT TO.
	if loc := transcriptFailRE.FindStringIndex(n); loc != nil {
		if j := strings.LastIndex(n[:loc[0]], ">>> "); j >= 0 {
			cmd := n[j+4:]
			switch {
			case strings.HasPrefix(cmd, "data"):
				if transcriptFailRE.MatchString(n[loc[1]:]) {
					return phaseRcpt
				}
				return phaseData
			case strings.HasPrefix(cmd, "rcpt"):
				return phaseRcpt
			case strings.HasPrefix(cmd, "mail"):
				return phaseSender
			}
		}
	}
	switch {
	case phaseDataRE.MatchString(n):
		return phaseData
	case phaseRcptRE.MatchString(n):
		return phaseRcpt
	case phaseSenderRE.MatchString(n):
		return phaseSender
	}
	return phaseUnknown
}

// noAccountRE is a server saying, in its own words, that the person has no
// account with it. Providers that check recipients only once the message
// is in (Yahoo's "dd This user doesn't have a yahoo.com account") say this
// after DATA; a filter hiding behind "unknown user" does not word it so.
var noAccountRE = rx(`(?:doesn't|does not|don't|do not) have an? .{1,60} account`)

// judge decides the reason and kind of one failed recipient from the
// remote server's words (diag), the bounce's other words about it (extra),
// its status code, its DSN action and the SMTP phase.
//
// The remote server's words come first: an MTA's own summary (Sendmail
// writes "User unknown" after any 5xx to RCPT TO) is only a fallback. Words
// beat the status code ("5.1.1 mailbox full" is a full mailbox), except
// generic words ("rejected") which a specific code outranks.
//
// A hard verdict suppresses the address for good, so nothing may
// contradict it: not a policy 5.7.x code among the server's words, not a
// refusal of the sender before RCPT TO, not a refusal after DATA of an
// address the server had accepted at RCPT TO (a filter, as Japanese
// carriers do for domain-filtered recipients), unless the server said
// 5.1.1 in so many words or that the person has no account there.
func judge(c memo, diag, extra, status, action string, phase smtpPhase) (string, Kind) {
	if action == "delayed" {
		return ReasonDelayed, Delayed
	}
	// x.0.0 names no cause, and neither does x.5.0, "other or undefined
	// protocol status": servers (Outlook.com's "550 5.5.0 Requested action
	// not taken: mailbox unavailable") send it for any refusal.
	specific := status != "" && !strings.HasSuffix(status, ".0.0") && !strings.HasSuffix(status, ".5.0")
	reason, weak := c.reason(diag)
	if (reason == "" || weak) && specific {
		// The code is specific and the server's words say nothing more
		// specific: trust the code before the bounce's own summary.
		if sr := statusReason(status); sr != "" {
			reason, weak = sr, false
		}
	}
	if reason == "" || weak {
		if r, w := c.reason(extra); r != "" && (reason == "" || !w) {
			reason, weak = r, w
		}
	}
	if reason == "" {
		reason = statusReason(status)
	}
	if reason == "" {
		reason = ReasonUnknownReason
	}
	if hardReason(reason) {
		policy := false
		for _, c := range statusRE.FindAllString(diag, -1) {
			if strings.HasPrefix(c[1:], ".7.") && findStatus(c) != "" {
				policy = true
			}
		}
		switch {
		case phase == phaseSender:
			reason = ReasonRejected
		case policy && reason == ReasonUserUnknown:
			reason = ReasonFiltered
		case phase == phaseData && reason == ReasonUserUnknown && !strings.HasSuffix(status, ".1.1") && !noAccountRE.MatchString(normalize(diag)):
			reason = ReasonFiltered
		}
	}
	if hardReason(reason) && (!strings.HasPrefix(status, "4.") || action == "failed") {
		return reason, Hard
	}
	return reason, Soft
}
