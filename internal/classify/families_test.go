package classify

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestBounceFamilies runs one sample of each family of bounce the corpus
// under-represents (written for these tests in testdata/families, modelled
// on what the named MTAs and services send) and checks the kind, reason
// and recipients: the rules must cover the family, not one corpus file.
func TestBounceFamilies(t *testing.T) {
	tests := []struct {
		file       string
		kind       Kind
		reason     string
		recipients []string
	}{
		// Yahoo refuses unknown users after DATA, with its "dd" prefix:
		// a dead address, not a content filter.
		{"yahoo-dd-after-data.eml", Hard, ReasonUserUnknown, []string{"marie.dupont1987@yahoo.com"}},
		// The same prefix on a disabled mailbox is not a dead address.
		{"yahoo-dd-disabled.eml", Soft, ReasonSuspended, []string{"old.friend@ymail.com"}},
		// A domain that does not exist, said without a status code.
		{"postfix-host-not-found-plain.eml", Hard, ReasonHostUnknown, []string{"jean@gmial.cmo"}},
		{"dns-lookup-failure.eml", Hard, ReasonHostUnknown, []string{"anna.k@old-startup.example"}},
		{"dns-lookup-failure-bare.eml", Hard, ReasonHostUnknown, []string{"jean@gmial.cmo"}},
		// A name server that failed for now: not a dead domain.
		{"postfix-host-not-found-try-again.eml", Soft, ReasonNetwork, []string{"paul@flaky-dns.example"}},
		{"dns-lookup-failure-temporary.eml", Soft, ReasonNetwork, []string{"sam@slow-dns.example"}},
		// Legacy charsets are decoded before the words are read.
		{"iso-2022-jp-user-unknown.eml", Hard, ReasonUserUnknown, []string{"taro.yamada@example.ne.jp"}},
		{"iso-2022-jp-mailbox-full.eml", Soft, ReasonMailboxFull, []string{"hanako@example.ne.jp"}},
		{"iso-8859-1-mailbox-full.eml", Soft, ReasonMailboxFull, []string{"claire.martin@example.fr"}},
		// Old Japanese MTAs send ISO-2022-JP without declaring it, in the
		// body and the subject; Latin-1 text may come undeclared too.
		{"iso-2022-jp-undeclared.eml", Hard, ReasonUserUnknown, []string{"jiro@example.ne.jp"}},
		{"latin1-undeclared.eml", Soft, ReasonMailboxFull, []string{"noe@example.fr"}},
		{"windows-1252-user-unknown.eml", Hard, ReasonUserUnknown, []string{"lucas.bernard@example.fr"}},
		// Amazon SES notifications delivered by SNS, with SNS's footer.
		{"ses-sns-bounce-permanent.eml", Hard, ReasonUserUnknown, []string{"ghost.reader@example.com"}},
		{"ses-sns-bounce-noemail.eml", Hard, ReasonUserUnknown, []string{"nobody@example.net"}},
		{"ses-sns-bounce-transient.eml", Soft, ReasonMailboxFull, []string{"busy@example.org"}},
		{"ses-sns-complaint.eml", Complaint, ReasonFeedback, []string{"annoyed@example.com"}},
		// Mailing-list robots answering a newsletter sent to a list.
		{"fml-loop-alert.eml", AutoReply, ReasonListRobot, nil},
		{"mailman-command-error.eml", AutoReply, ReasonListRobot, nil},
		// Recipients named only in the text or the returned original.
		{"qmail-plain.eml", Hard, ReasonUserUnknown, []string{"vieux.compte@example.net"}},
		{"original-recipient-only.eml", Hard, ReasonUserUnknown, []string{"bob.ancien@example.com"}},
		// Delivery-status fields quoted, indented, in the text part.
		{"text-dsn-indented.eml", Hard, ReasonUserUnknown, []string{"tom@mail.example.net"}},
		{"returned-headers-only.eml", Hard, ReasonUserUnknown, []string{"chloe.r@example.org"}},
		// A refusal that names nothing but the recipient: RFC 5321's stock
		// 550 text, Outlook.com's answer for an unknown user, and a bare
		// "Recipient address rejected." with no reason after it.
		{"outlookcom-mailbox-unavailable.eml", Hard, ReasonUserUnknown, []string{"lea.moreau@hotmail.fr"}},
		{"postfix-recipient-address-rejected-bare.eml", Hard, ReasonUserUnknown, []string{"hiroshi.sato@mobile.example.jp"}},
		// The 450 form of the same words is a busy mailbox, even once the
		// relay gives up retrying.
		{"mailbox-unavailable-busy-expired.eml", Soft, ReasonUnknownReason, []string{"marc@mairie-exemple.fr"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "families", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := Classify(raw, Options{})
			if got.Kind != tt.kind || got.Reason != tt.reason {
				t.Errorf("got %s/%s (%s %q), want %s/%s", got.Kind, got.Reason, got.Status, got.Diagnostic, tt.kind, tt.reason)
			}
			addrs := got.FailedAddresses()
			if tt.recipients == nil {
				tt.recipients = []string{}
			}
			if tt.kind != AutoReply && !slices.Equal(addrs, tt.recipients) {
				t.Errorf("recipients %v, want %v", addrs, tt.recipients)
			}
		})
	}
}

// TestListPostByAPersonIsNoRobot checks that list headers alone do not
// make a robot's answer: a person's post through a list may talk about
// commands.
func TestListPostByAPersonIsNoRobot(t *testing.T) {
	raw := `From: Paul Martin <paul@example.net>
To: club@lists.example.com
Subject: Re: La lettre de janvier
List-Id: Club des lecteurs <club.lists.example.com>
X-Mailman-Version: 2.1.39
Content-Type: text/plain; charset=utf-8

Merci pour la lettre. Mon client affiche "unknown command" quand je clique
sur le lien de désinscription, est-ce normal ?
`
	if got := Classify([]byte(raw), Options{}); got.Kind == AutoReply {
		t.Errorf("got %s/%s, want no list robot", got.Kind, got.Reason)
	}
}
