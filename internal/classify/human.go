package classify

import (
	"regexp"
	"slices"
	"strings"
)

// autoReplySubjectRE matches the subjects mail clients and servers give
// their automatic answers, in the languages Bulletin's readers use.
var autoReplySubjectRE = rx(
	`^auto(?:matic)?[ -]?(?:reply|response|answer|antwort|reponse|respuesta|risposta)\b`, `^auto:`, `^autoreply`, `^auto-reply`,
	`^out of (?:the )?office`, `\bout of (?:the )?office\b`, `^ooo\b`, `^absen(?:ce|t)\b`, `^away\b`, `^on vacation`, `^vacation`,
	`^(?:reponse|message) automatique`, `\breponse automatique\b`, `^abwesenheit`, `^automatische antwort`, `^respuesta automatica`,
	`^fuera de la oficina`, `^risposta automatica`, `^conge`, `^en conge`, `^je suis absent`, `^absent du bureau`,
	`^(?:re: )?(?:automatic reply|auto reply|autoreply)`,
)

// classifyAutoReply recognises RFC 3834 and customary auto-replies.
func classifyAutoReply(m *msg, res *Result) bool {
	h := m.header
	auto := false
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && !strings.HasPrefix(v, "no") {
		auto = true
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply", "X-Vacation"} {
		if h.Has(k) && !strings.EqualFold(strings.TrimSpace(h.Get(k)), "no") {
			auto = true
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "auto_reply", "auto-reply", "autoreply":
		auto = true
	}
	if strings.EqualFold(strings.TrimSpace(h.Get("X-Apple-Action")), "vacation") {
		auto = true
	}
	if autoReplySubjectRE.MatchString(normalize(headerText(h, "Subject"))) {
		auto = true
	}
	if !auto {
		return false
	}
	res.Kind = AutoReply
	res.Reason = ReasonVacation
	return true
}

// List programs (fml, Mailman, Majordomo, Sympa, LISTSERV, ezmlm...) mark
// what they send with their own header fields and write from a robot
// address; their answers to a post are recognisable by their wording.
var (
	listHeaders     = []string{"X-ML-Name", "X-MLServer", "X-ML-Info", "X-Mailman-Version", "X-BeenThere", "List-Id", "List-Help", "Mailing-List", "X-Ecartis-Version", "X-LSV-ListID", "X-Sympa-To"}
	listRobotFromRE = regexp.MustCompile(`(?i)^(?:[^@]*-(?:request|ctl|admin|owner)|majordomo|listserv|sympa|mailman|ecartis|fml|ezmlm)@`)
	listAnswerRE    = rx(
		`loop alert`, `dup'?ed message-?id`, `command error`, `command status report`, `results of your (?:e-?mail )?commands?`,
		`not a recognized command`, `unknown command`, `fml system message`, `majordomo results`,
		`(?:held|awaits?|waiting) (?:for )?moderat`, `moderator'?s? approval`,
	)
)

// classifyListRobot recognises a mailing-list program's answer to a
// message sent to a list address: a loop alert, a command error, a post
// held for moderation. It is filed as an auto-reply: like a vacation
// message it comes from a program and asks for nothing, and it proves
// nothing about the address (the list exists; it only refused or parked
// this post), so it is neither a reply for a person to read nor a bounce
// that counts toward suppression. A list's refusal of a non-member ("you
// are not a member") stays a bounce.
func classifyListRobot(m *msg, res *Result) bool {
	if m.mediaType == "multipart/report" || m.header.Has("X-Failed-Recipients") {
		return false
	}
	// A robot's own address speaks for the whole text; list headers alone
	// also come on the posts people send through a list, whose bodies may
	// say anything, so then only the subject counts.
	text := headerText(m.header, "Subject")
	switch {
	case listRobotFromRE.MatchString(m.from()):
		head := m.own
		if len(head) > 4096 {
			head = head[:4096]
		}
		text += "\n" + head
	case !slices.ContainsFunc(listHeaders, m.header.Has):
		return false
	}
	if !listAnswerRE.MatchString(normalize(text)) {
		return false
	}
	res.Kind = AutoReply
	res.Reason = ReasonListRobot
	return true
}

// unsubscribeWords are the subjects or bodies whose whole meaning is "stop
// sending me this", once normalised (lower case, no accents, no
// punctuation).
var unsubscribeWords = map[string]bool{
	"unsubscribe": true, "unsubscribe me": true, "please unsubscribe": true, "please unsubscribe me": true,
	"unsubscribe please": true, "remove": true, "remove me": true, "please remove me": true, "stop": true,
	"desinscription": true, "desinscrire": true, "se desinscrire": true, "me desinscrire": true,
	"desinscrivez moi": true, "desinscrivez-moi": true, "merci de me desinscrire": true,
	"desabonnement": true, "desabonner": true, "se desabonner": true, "me desabonner": true,
	"desabonnez moi": true, "desabonnez-moi": true, "merci de me desabonner": true,
	"abmelden": true, "baja": true, "darse de baja": true, "cancellami": true,
}

var nonWordRE = regexp.MustCompile(`[^\p{L}\p{N}\- ]+`)

// meaningIsUnsubscribe reports whether s says nothing but "unsubscribe".
func meaningIsUnsubscribe(s string) bool {
	n := normalize(s)
	for _, p := range []string{"re:", "tr:", "fwd:", "fw:", "aw:", "wg:"} {
		n = strings.TrimSpace(strings.TrimPrefix(n, p))
	}
	n = strings.Join(strings.Fields(nonWordRE.ReplaceAllString(n, " ")), " ")
	return unsubscribeWords[n]
}

// toUnsubscribe reports whether the message is addressed to the mailto
// unsubscribe address.
func toUnsubscribe(m *msg, opts Options) bool {
	_, ok := unsubscribeToken(m, opts)
	return ok
}

// unsubscribeToken returns the token of the first unsubscribe address the
// message is addressed to.
func unsubscribeToken(m *msg, opts Options) (string, bool) {
	for _, k := range []string{"Delivered-To", "X-Original-To", "To", "Cc", "Envelope-To", "X-Envelope-To"} {
		for _, v := range m.header.Values(k) {
			for _, a := range addrRE.FindAllString(v, -1) {
				if tok, ok := plusToken(a, opts.UnsubscribeLocal); ok {
					return tok, true
				}
			}
		}
	}
	return "", false
}

// classifyUnsubscribe recognises mailto unsubscribe requests.
func classifyUnsubscribe(m *msg, opts Options, res *Result) bool {
	tok, ok := unsubscribeToken(m, opts)
	if !ok {
		subj := headerText(m.header, "Subject")
		body := strings.TrimSpace(firstParagraph(m))
		ok = meaningIsUnsubscribe(subj) && (body == "" || meaningIsUnsubscribe(body)) ||
			strings.TrimSpace(subj) == "" && meaningIsUnsubscribe(body)
	}
	if !ok {
		return false
	}
	res.Kind = Unsubscribe
	res.Reason = ReasonUnsubscribe
	res.UnsubscribeToken = tok
	return true
}

// firstParagraph returns the first paragraph of the message's own text,
// stopping at a quoted reply or a signature.
func firstParagraph(m *msg) string {
	for _, t := range m.textParts() {
		var out []string
		for _, ln := range lines(t) {
			s := strings.TrimSpace(ln)
			if strings.HasPrefix(s, ">") || s == "--" || strings.HasPrefix(s, "-- ") {
				break
			}
			if s == "" {
				if len(out) > 0 {
					break
				}
				continue
			}
			out = append(out, s)
		}
		return strings.Join(out, " ")
	}
	return ""
}

// isAutomated reports whether the message comes from a robot rather than a
// person, though it is neither a bounce nor a complaint.
func isAutomated(m *msg) bool {
	if daemonFromRE.MatchString(strings.ToLower(m.header.Get("From"))) {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(m.header.Get("Precedence"))) {
	case "bulk", "junk", "list":
		return true
	}
	if m.mediaType == "multipart/report" {
		return true
	}
	return m.header.Has("List-Id") || m.header.Has("List-Unsubscribe")
}
