package classify

import "testing"

// A relay's refusal in the SMTP session is judged like a bounce: a dead
// address is hard, any other permanent refusal soft, and a refusal of the
// session itself is told apart (issue 13).
func TestJudgeReply(t *testing.T) {
	tests := []struct {
		cmd      string
		code     int
		enhanced string
		text     string
		kind     Kind
		reason   string
		relay    bool
	}{
		{"RCPT TO", 550, "5.1.1", "<ana@example.net>: Recipient address rejected: User unknown in virtual mailbox table", Hard, ReasonUserUnknown, false},
		{"RCPT TO", 550, "", "No such user here", Hard, ReasonUserUnknown, false},
		{"RCPT TO", 550, "5.1.1", "The email account that you tried to reach does not exist.", Hard, ReasonUserUnknown, false},
		{"RCPT TO", 550, "5.1.2", "Host or domain name not found", Hard, ReasonHostUnknown, false},
		{"RCPT TO", 550, "5.7.1", "<ana@example.net>: Recipient address rejected: refused by local policy", Soft, ReasonBlocked, false},
		{"RCPT TO", 550, "5.7.1", "User unknown; rejecting (policy)", Soft, ReasonFiltered, false},
		{"RCPT TO", 552, "5.2.2", "Mailbox full", Soft, ReasonMailboxFull, false},
		{"DATA (end)", 552, "5.3.4", "Message size exceeds fixed limit", Soft, ReasonTooBig, false},
		{"DATA (end)", 554, "5.7.1", "Message rejected as spam", Soft, ReasonSpam, false},
		{"DATA (end)", 550, "5.0.0", "User unknown", Soft, ReasonFiltered, false},
		{"DATA (end)", 550, "5.1.1", "User unknown", Hard, ReasonUserUnknown, false},
		{"RCPT TO", 554, "5.7.1", "<ana@example.net>: Relay access denied", Soft, ReasonNoRelaying, true},
		{"RCPT TO", 554, "5.7.1", "<bounces+x@example.org>: Sender address rejected: Access denied", Soft, ReasonBlocked, true},
		{"RCPT TO", 550, "5.7.0", "Authentication required", Soft, ReasonSecurity, true},
		{"RCPT TO", 550, "5.4.5", "Daily user sending quota exceeded.", Soft, ReasonMailboxFull, true},
		{"RCPT TO", 553, "5.1.8", "<bounces@example.org>: Sender address rejected: Domain not found", Hard, ReasonHostUnknown, true},
		// Nothing but the recipient refused: RFC 5321's stock 550 text
		// (Outlook.com's unknown user) and a bare address rejection are
		// dead addresses, unless a code names another cause, the words
		// do, or the refusal came after DATA.
		{"RCPT TO", 550, "5.5.0", "Requested action not taken: mailbox unavailable (S2017062302).", Hard, ReasonUserUnknown, false},
		{"RCPT TO", 550, "", "<ana@example.net>: Recipient address rejected.", Hard, ReasonUserUnknown, false},
		{"RCPT TO", 550, "5.2.1", "Mailbox unavailable", Soft, ReasonSuspended, false},
		{"RCPT TO", 554, "5.7.1", "<ana@example.net>: Recipient address rejected.", Soft, ReasonBlocked, false},
		{"RCPT TO", 550, "", "Requested action not taken: mailbox unavailable (not enough free space)", Soft, ReasonMailboxFull, false},
		{"RCPT TO", 550, "", "Requested action not taken: mailbox unavailable, blocked using zen.spamhaus.org", Soft, ReasonBlocked, false},
		{"DATA (end)", 550, "", "Requested action not taken: mailbox unavailable", Soft, ReasonFiltered, false},
		{"MAIL FROM", 550, "", "<bounces@example.org>: Sender address rejected.", Soft, ReasonRejected, true},
		{"RCPT TO", 450, "4.1.1", "User unknown", "", "", false},
		{"RCPT TO", 0, "", "connection reset", "", "", false},
	}
	for _, tt := range tests {
		got := JudgeReply(tt.cmd, tt.code, tt.enhanced, tt.text)
		want := Refusal{Kind: tt.kind, Reason: tt.reason, RelayWide: tt.relay}
		if got != want {
			t.Errorf("JudgeReply(%q, %d, %q, %q) = %+v, want %+v", tt.cmd, tt.code, tt.enhanced, tt.text, got, want)
		}
	}
}
