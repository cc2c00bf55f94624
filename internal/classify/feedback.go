package classify

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// complaintFromRE matches the senders of feedback-loop reports that do not
// use ARF (Microsoft JMRP, some ISPs): they are robots with telling names.
var (
	complaintFromRE    = regexp.MustCompile(`(?i)^(?:fbl|feedback ?loop|feedbackloop|complaints?|abuse-report|scomp|staff@hotmail|jmrp)[^@]*@`)
	complaintSubjectRE = rx(`^complaint about message from`, `^(?:email )?(?:abuse|feedback) report`, `^fbl report`)
)

// classifyComplaint recognises feedback reports and fills res.
func classifyComplaint(m *msg, opts Options, res *Result) bool {
	arf := m.mediaType == "multipart/report" && strings.EqualFold(m.params["report-type"], "feedback-report")
	var fields []dsnField
	for _, p := range m.parts {
		if p.mediaType == "message/feedback-report" && !p.inOriginal {
			arf = true
			for _, b := range parseDSNFields(p.body) {
				fields = append(fields, b...)
			}
		}
	}
	var complained []string
	feedbackType := ""
	for _, f := range fields {
		switch f.name {
		case "feedback-type":
			if feedbackType == "" {
				feedbackType = strings.ToLower(f.value)
			}
		case "original-rcpt-to", "removal-recipient":
			if a := cleanAddress(f.value); a != "" {
				complained = append(complained, a)
			}
		}
	}
	if !arf {
		switch {
		case hasOriginalField(m, "X-HmXmrOriginalRecipient"):
			// Microsoft's JMRP: no report part, the complained-about
			// address is a header of the returned original.
			feedbackType = "abuse"
		case strings.EqualFold(strings.TrimSpace(m.header.Get("X-Apple-Unsubscribe")), "true"):
			// Apple Mail's "Unsubscribe" button, when the address it wrote
			// to is not our mailto unsubscribe address (that case is an
			// unsubscribe): the reader asked to stop, through their client.
			if toUnsubscribe(m, opts) {
				return false
			}
			feedbackType = "opt-out"
			complained = append(complained, m.from())
		case len(m.originals) > 0 && (complaintFromRE.MatchString(m.from()) || complaintSubjectRE.MatchString(normalize(headerText(m.header, "Subject")))):
			feedbackType = "abuse"
		default:
			return false
		}
	}
	for _, o := range m.originals {
		complained = append(complained, headerAddresses(o.header, "X-HmXmrOriginalRecipient")...)
		complained = append(complained, headerAddresses(o.header, "To")...)
	}
	res.Kind = Complaint
	res.Reason = ReasonFeedback
	if feedbackType == "" {
		feedbackType = "abuse"
	}
	res.Diagnostic = "Feedback-Type: " + oneLine(feedbackType)
	for _, a := range dedupe(complained) {
		if strings.Contains(a, "redacted") {
			continue
		}
		res.Recipients = append(res.Recipients, Recipient{Address: a, Reason: ReasonFeedback, Kind: Complaint, Diagnostic: res.Diagnostic})
		// The first complained-about address is the subscriber; other
		// recipients of the same original are not ours to suppress.
		break
	}
	return true
}

// hasOriginalField reports whether a returned original has the header k.
func hasOriginalField(m *msg, k string) bool {
	for _, o := range m.originals {
		if o.header.Has(k) {
			return true
		}
	}
	return false
}

// sesNotification is the part of an Amazon SES notification (delivered by
// SNS to an e-mail subscription) that classification needs.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           *struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Action         string `json:"action"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
	} `json:"complaint"`
	Mail *struct {
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
	} `json:"mail"`
}

// classifySESNotification reads an Amazon SES bounce or complaint
// notification sent as JSON in the body of a mail (through SNS or not).
func classifySESNotification(m *msg, res *Result) bool {
	var body string
	for _, p := range m.parts {
		if p.inOriginal {
			continue
		}
		switch p.mediaType {
		case "", "text/plain", "application/json":
		default:
			continue
		}
		if s := strings.TrimSpace(p.body); strings.HasPrefix(s, "{") && (strings.Contains(s, "notificationType") || strings.Contains(s, "eventType")) {
			body = s
			break
		}
	}
	if body == "" {
		return false
	}
	n, ok := decodeSES(body)
	if !ok {
		return false
	}
	typ := strings.ToLower(n.NotificationType + n.EventType)
	if n.Mail != nil {
		var h textproto.Header
		for _, f := range n.Mail.Headers {
			h.Add(f.Name, f.Value)
		}
		o := original{header: h}
		m.originals = append(m.originals, o)
		collectOriginalClues(o, res)
	}
	switch {
	case typ == "bounce" && n.Bounce != nil:
		var fs []failure
		for _, r := range n.Bounce.BouncedRecipients {
			f := failure{
				addr:   cleanAddress(r.EmailAddress),
				action: strings.ToLower(r.Action),
				status: findStatus(r.Status),
				diag:   stripDiagType(r.DiagnosticCode),
			}
			if f.diag == "" {
				// SES's own words when the remote server gave none.
				f.diag = "Amazon SES: " + n.Bounce.BounceType + " bounce, " + n.Bounce.BounceSubType
			}
			f.primary = f.diag
			f.context = n.Bounce.BounceSubType
			if f.status == "" {
				f.status = inferStatus(f.diag)
			}
			if f.status == "" {
				f.status = sesSubTypeStatus(n.Bounce.BounceType, n.Bounce.BounceSubType)
			}
			if f.action == "" {
				f.action = "failed"
			}
			fs = append(fs, f)
		}
		if len(fs) == 0 {
			fs = append(fs, failure{action: "failed", primary: n.Bounce.BounceSubType})
		}
		fillBounce(m.memo, res, fs)
		return true
	case typ == "complaint" && n.Complaint != nil:
		res.Kind = Complaint
		res.Reason = ReasonFeedback
		ft := n.Complaint.ComplaintFeedbackType
		if ft == "" {
			ft = "abuse"
		}
		res.Diagnostic = "Feedback-Type: " + oneLine(ft)
		for _, r := range n.Complaint.ComplainedRecipients {
			if a := cleanAddress(r.EmailAddress); a != "" {
				res.Recipients = append(res.Recipients, Recipient{Address: a, Reason: ReasonFeedback, Kind: Complaint, Diagnostic: res.Diagnostic})
			}
		}
		return true
	}
	return false
}

// sesSubTypeStatus is the status code an SES bounce's type and subtype
// stand for, for recipients that come without a status or a diagnostic:
// SES says "NoEmail" when the address does not exist and "Suppressed" when
// it refuses to send to an address that bounced hard before.
func sesSubTypeStatus(typ, sub string) string {
	class := "5"
	if strings.EqualFold(typ, "Transient") {
		class = "4"
	}
	switch strings.ToLower(sub) {
	case "noemail", "suppressed":
		return class + ".1.1"
	case "mailboxfull":
		return class + ".2.2"
	case "messagetoolarge":
		return class + ".3.4"
	case "contentrejected", "attachmentrejected":
		return class + ".6.0"
	}
	return class + ".0.0"
}

// decodeSES parses an SES notification, unwrapping the SNS envelope whose
// "Message" field holds the notification as a JSON string. Mail relays fold
// long lines ("!" + newline + space, or a bare newline), so the JSON is
// retried without them.
func decodeSES(body string) (sesNotification, bool) {
	// SNS appends its own footer ("--", then how to unsubscribe from the
	// topic) after the JSON: read the first JSON value and ignore the rest.
	first := func(s string, v any) error {
		return json.NewDecoder(strings.NewReader(s)).Decode(v)
	}
	try := func(s string) (sesNotification, bool) {
		var env struct {
			Type    string `json:"Type"`
			Message string `json:"Message"`
		}
		var n sesNotification
		if err := first(s, &env); err != nil {
			return n, false
		}
		if env.Message != "" {
			if err := first(env.Message, &n); err != nil {
				return n, false
			}
			return n, true
		}
		if err := first(s, &n); err != nil {
			return n, false
		}
		return n, n.NotificationType != "" || n.EventType != ""
	}
	if n, ok := try(body); ok {
		return n, true
	}
	unfolded := strings.ReplaceAll(body, "!\n ", "")
	if n, ok := try(unfolded); ok {
		return n, true
	}
	return try(strings.ReplaceAll(unfolded, "\n", ""))
}
