package classify

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// dsn builds a multipart/report delivery status notification around the
// given per-recipient blocks, returning an original with Bulletin's
// headers.
func dsn(subject, perRecipient, original string) string {
	return `Return-Path: <>
Delivered-To: bounces+0123456789abcdef0123456789abcdef0123456789abcdef@news.example.org
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: bounces+0123456789abcdef0123456789abcdef0123456789abcdef@news.example.org
Subject: ` + subject + `
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Tue, 14 Jan 2025 09:00:00 +0100

` + perRecipient + `
--BOUNDARY
Content-Type: message/rfc822

` + original + `
--BOUNDARY--
`
}

const bulletinOriginal = `Return-Path: <bounces+0123456789abcdef0123456789abcdef0123456789abcdef@news.example.org>
From: La Lettre <lettre@news.example.org>
To: reader@example.com
Subject: Numéro 42
Message-ID: <edition-42.reader@news.example.org>
X-Bulletin-Campaign: 7d444840-9dc0-11d1-b245-5ffdce74fad2
X-Bulletin-Delivery: 00112233445566778899aabbccddeeff0011223344556677

Bonjour.
`

func TestClassifyTable(t *testing.T) {
	tests := []struct {
		name       string
		raw        string
		kind       Kind
		reason     string
		status     string
		recipients []string
		kinds      []Kind // per recipient, when given
	}{
		{
			name: "DSN with recipients of mixed kinds",
			raw: dsn("Undelivered Mail Returned to Sender", `Final-Recipient: rfc822; Gone@Example.com
Original-Recipient: rfc822;gone@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.com>: Recipient address
    rejected: User unknown in virtual mailbox table

Final-Recipient: rfc822; full@example.com
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full

Final-Recipient: rfc822; spamtrap@example.net
Action: failed
Status: 5.7.1
Diagnostic-Code: smtp; 554 5.7.1 Message rejected as spam by content filter

Final-Recipient: rfc822; slow@example.org
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.org[192.0.2.1]:25: Connection timed out
`, bulletinOriginal),
			kind:       Hard,
			reason:     ReasonUserUnknown,
			status:     "5.1.1",
			recipients: []string{"gone@example.com", "full@example.com", "spamtrap@example.net", "slow@example.org"},
			kinds:      []Kind{Hard, Soft, Soft, Delayed},
		},
		{
			name: "5.7.1 spam rejection is soft",
			raw: dsn("Undelivered Mail Returned to Sender", `Final-Recipient: rfc822; reader@example.com
Action: failed
Status: 5.7.1
Diagnostic-Code: smtp; 550 5.7.1 Our system has detected that this message is likely unsolicited mail (spam)
`, bulletinOriginal),
			kind: Soft, reason: ReasonSpam, status: "5.7.1", recipients: []string{"reader@example.com"},
		},
		{
			name: "5.1.1 whose words say mailbox full is soft",
			raw: dsn("Delivery Status Notification (Failure)", `Final-Recipient: rfc822; reader@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <reader@example.com>... Mailbox full, try again later
`, bulletinOriginal),
			kind: Soft, reason: ReasonMailboxFull, status: "5.1.1", recipients: []string{"reader@example.com"},
		},
		{
			name: "5.0.0 with user unknown words is hard",
			raw: dsn("Returned mail: see transcript for details", `Final-Recipient: RFC822; reader@example.com
Action: failed
Status: 5.0.0
Diagnostic-Code: SMTP; 550 reader@example.com... User unknown
`, bulletinOriginal),
			kind: Hard, reason: ReasonUserUnknown, status: "5.0.0", recipients: []string{"reader@example.com"},
		},
		{
			name: "5.7.1 blocklisted IP with a 5.1.1 status from the reporting MTA is soft",
			raw: dsn("Returned mail: see transcript for details", `Final-Recipient: RFC822; reader@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: SMTP; 554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org
`, bulletinOriginal),
			kind: Soft, reason: ReasonBlocked, status: "5.7.1", recipients: []string{"reader@example.com"},
		},
		{
			name: "delayed DSN",
			raw: dsn("Delayed Mail (still being retried)", `Final-Recipient: rfc822; reader@example.com
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.com[192.0.2.1]:25: Connection refused
Will-Retry-Until: Sat, 18 Jan 2025 09:00:00 +0100
`, bulletinOriginal),
			kind: Delayed, reason: ReasonDelayed, status: "4.4.1", recipients: []string{"reader@example.com"},
		},
		{
			name: "expired after retries is soft",
			raw: dsn("Returned mail: Cannot send message for 5 days", `Final-Recipient: rfc822; reader@example.com
Action: failed
Status: 4.4.7
Diagnostic-Code: smtp; 421 4.4.7 Message expired
`, bulletinOriginal),
			kind: Soft, reason: ReasonExpired, status: "4.4.7", recipients: []string{"reader@example.com"},
		},
		{
			name: "delivery-status part under a wrong outer type",
			raw: strings.Replace(dsn("Mail delivery failed", `Final-Recipient: rfc822; reader@example.com
Action: failed
Status: 5.1.2
Diagnostic-Code: smtp; 550 5.1.2 Host unknown (Name server: example.com: host not found)
`, bulletinOriginal), "multipart/report; report-type=delivery-status", "multipart/mixed", 1),
			kind: Hard, reason: ReasonHostUnknown, status: "5.1.2", recipients: []string{"reader@example.com"},
		},
		{
			name: "French Orange/Wanadoo text bounce, unknown address",
			raw: `From: Mailer-Daemon@orange.fr
To: bounces+tok@news.example.org
Subject: Non remis : Numéro 42
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Votre message n'a pas pu =EAtre remis =E0 un ou plusieurs destinataires.

<jean.dupont@wanadoo.fr> :
    550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]

------ Copie du message original ------
`,
			kind: Hard, reason: ReasonUserUnknown, status: "5.1.1", recipients: []string{"jean.dupont@wanadoo.fr"},
		},
		{
			name: "French text bounce, full mailbox",
			raw: `From: "Service de messagerie" <postmaster@free.fr>
To: bounces+tok@news.example.org
Subject: =?utf-8?q?=C3=89chec_de_la_remise?=
Content-Type: text/plain; charset=utf-8

Impossible de remettre votre message au destinataire suivant :

  marie@free.fr
    La boîte aux lettres du destinataire est pleine.
`,
			kind: Soft, reason: ReasonMailboxFull, status: "", recipients: []string{"marie@free.fr"},
		},
		{
			name: "French text bounce, utilisateur inconnu without any code",
			raw: `From: MAILER-DAEMON@laposte.net
To: bounces+tok@news.example.org
Subject: Message non delivre
Content-Type: text/plain; charset=utf-8

Le message n'a pas pu être délivré à l'adresse suivante :

paul@laposte.net : utilisateur inconnu
`,
			kind: Hard, reason: ReasonUserUnknown, status: "", recipients: []string{"paul@laposte.net"},
		},
		{
			name: "qmail text bounce refused at MAIL FROM is soft",
			raw: `From: MAILER-DAEMON@mx.example.net
To: bounces+tok@news.example.org
Subject: failure notice

Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<reader@example.com>:
Connected to 192.0.2.1 but sender was rejected.
Remote host said: 553 5.1.8 sender domain does not exist

--- Below this line is a copy of the message.
`,
			kind: Soft, reason: ReasonRejected, status: "5.1.8", recipients: []string{"reader@example.com"},
		},
		{
			name: "Exim text bounce with X-Failed-Recipients",
			raw: `From: Mail Delivery System <Mailer-Daemon@mx.example.net>
To: bounces+tok@news.example.org
X-Failed-Recipients: reader@example.com
Auto-Submitted: auto-replied
Subject: Mail delivery failed: returning message to sender

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  reader@example.com
    host mx.example.com [192.0.2.2]
    SMTP error from remote mail server after RCPT TO:<reader@example.com>:
    550 5.1.1 <reader@example.com>: Recipient address rejected: User unknown

------ This is a copy of the message, including all the headers. ------

` + bulletinOriginal,
			kind: Hard, reason: ReasonUserUnknown, status: "5.1.1", recipients: []string{"reader@example.com"},
		},
		{
			name: "user unknown refused after DATA is a filter",
			raw: `From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: bounces+tok@news.example.org
Subject: Undelivered Mail Returned to Sender

<reader@example.jp>: host mx.example.jp[192.0.2.3] said: 550 Unknown user
    reader@example.jp (in reply to end of DATA command)
`,
			kind: Soft, reason: ReasonFiltered, status: "5.0.0", recipients: []string{"reader@example.jp"},
		},
		{
			name: "ARF complaint",
			raw: `From: feedback@arf.mail.example.net
To: fbl@news.example.org
Subject: FW: Numéro 42
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is an email abuse report.
--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <bounces+tok@news.example.org>
Original-Rcpt-To: <Reader@Example.com>

--ARF
Content-Type: message/rfc822

` + bulletinOriginal + `
--ARF--
`,
			kind: Complaint, reason: ReasonFeedback, recipients: []string{"reader@example.com"},
		},
		{
			name: "RFC 3834 auto-reply",
			raw: `From: Reader <reader@example.com>
To: lettre@news.example.org
Subject: Re: Numéro 42
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=utf-8

Je suis absente jusqu'au 20 janvier.
`,
			kind: AutoReply, reason: ReasonVacation,
		},
		{
			name: "out of office by subject only",
			raw: `From: Reader <reader@example.com>
To: lettre@news.example.org
Subject: =?utf-8?q?R=C3=A9ponse_automatique=C2=A0:_Num=C3=A9ro_42?=

Bonjour, je suis en congés.
`,
			kind: AutoReply, reason: ReasonVacation,
		},
		{
			name: "auto-submitted no is a person",
			raw: `From: Reader <reader@example.com>
To: lettre@news.example.org
Subject: Re: Numéro 42
Auto-Submitted: no

Merci pour ce numéro !
`,
			kind: Reply, reason: ReasonReply,
		},
		{
			name: "mailto unsubscribe with token",
			raw: `From: Reader <Reader@Example.com>
To: unsubscribe+0123456789ABCDEF@news.example.org
Subject: unsubscribe

`,
			kind: Unsubscribe, reason: ReasonUnsubscribe,
		},
		{
			name: "unsubscribe by subject alone",
			raw: `From: Reader <reader@example.com>
To: lettre@news.example.org
Subject: Désinscription

`,
			kind: Unsubscribe, reason: ReasonUnsubscribe,
		},
		{
			name: "a person's reply",
			raw: `From: Reader <reader@example.com>
To: lettre@news.example.org
Subject: Re: Numéro 42
In-Reply-To: <edition-42.reader@news.example.org>
Content-Type: text/plain; charset=utf-8

Bonjour, pourriez-vous m'envoyer le programme du 10e anniversaire ?
`,
			kind: Reply, reason: ReasonReply,
		},
		{
			name:   "garbage bytes",
			raw:    "\x00\x01\x02\xff\xfe binary junk with no header at all",
			kind:   Unknown,
			reason: ReasonUnparseable,
		},
		{
			name:   "empty input",
			raw:    "",
			kind:   Unknown,
			reason: ReasonUnparseable,
		},
		{
			name: "success DSN asks for nothing",
			raw: dsn("Successful Mail Delivery Report", `Final-Recipient: rfc822; reader@example.com
Action: delivered
Status: 2.0.0
Diagnostic-Code: smtp; 250 2.0.0 Ok: queued
`, bulletinOriginal),
			kind: Unknown, reason: ReasonDelivered,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify([]byte(tt.raw), Options{})
			if got.Kind != tt.kind || got.Reason != tt.reason {
				t.Errorf("Classify(%s) = kind %q reason %q (diag %q), want kind %q reason %q", tt.name, got.Kind, got.Reason, got.Diagnostic, tt.kind, tt.reason)
			}
			if tt.status != "" || tt.kind == Hard || tt.kind == Soft {
				if got.Status != tt.status {
					t.Errorf("Classify(%s).Status = %q, want %q", tt.name, got.Status, tt.status)
				}
			}
			if tt.recipients != nil && !slices.Equal(got.FailedAddresses(), tt.recipients) {
				t.Errorf("Classify(%s).Recipients = %v, want %v", tt.name, got.FailedAddresses(), tt.recipients)
			}
			for i, k := range tt.kinds {
				if i < len(got.Recipients) && got.Recipients[i].Kind != k {
					t.Errorf("Classify(%s).Recipients[%d].Kind = %q, want %q", tt.name, i, got.Recipients[i].Kind, k)
				}
			}
			if got.Recipients == nil {
				t.Errorf("Classify(%s).Recipients = nil, want non-nil", tt.name)
			}
			if tt.kind == Unknown && tt.reason == ReasonUnparseable && got.Diagnostic == "" {
				t.Errorf("Classify(%s).Diagnostic is empty, want the parse error", tt.name)
			}
		})
	}
}

func TestClassifyClues(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef0123456789abcdef"
	const delivery = "00112233445566778899aabbccddeeff0011223344556677"
	const campaign = "7d444840-9dc0-11d1-b245-5ffdce74fad2"
	perRecipient := `Final-Recipient: rfc822; reader@example.com
Action: failed
Status: 5.1.1
`
	tests := []struct {
		name                      string
		raw                       string
		verp, delivery, campaign  string
		messageID, unsubscribeTok string
	}{
		{
			name:      "VERP token in Delivered-To, headers in a message/rfc822 part",
			raw:       dsn("Undelivered Mail Returned to Sender", perRecipient, bulletinOriginal),
			verp:      token,
			delivery:  delivery,
			campaign:  campaign,
			messageID: "edition-42.reader@news.example.org",
		},
		{
			name: "headers in a text/rfc822-headers part",
			raw: strings.Replace(dsn("Undelivered Mail Returned to Sender", perRecipient, bulletinOriginal),
				"Content-Type: message/rfc822", "Content-Type: text/rfc822-headers", 1),
			verp:      token,
			delivery:  delivery,
			campaign:  campaign,
			messageID: "edition-42.reader@news.example.org",
		},
		{
			name: "original quoted inline in a text bounce, VERP token only in its Return-Path",
			raw: `From: MAILER-DAEMON@mx.example.net
To: lettre@news.example.org
Subject: failure notice

Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.

<reader@example.com>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

` + bulletinOriginal,
			verp:      token,
			delivery:  delivery,
			campaign:  campaign,
			messageID: "edition-42.reader@news.example.org",
		},
		{
			name: "mailto unsubscribe token keeps its case",
			raw: `From: reader@example.com
To: "Unsubscribe" <Unsubscribe+AbCdEf0123@news.example.org>
Subject: unsubscribe

`,
			unsubscribeTok: "AbCdEf0123",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify([]byte(tt.raw), Options{})
			check := func(field, got, want string) {
				if got != want {
					t.Errorf("Classify(%s).%s = %q, want %q", tt.name, field, got, want)
				}
			}
			check("VERPToken", got.VERPToken, tt.verp)
			check("DeliveryToken", got.DeliveryToken, tt.delivery)
			check("CampaignID", got.CampaignID, tt.campaign)
			check("OriginalMessageID", got.OriginalMessageID, tt.messageID)
			check("UnsubscribeToken", got.UnsubscribeToken, tt.unsubscribeTok)
		})
	}
}

func TestClassifyOptions(t *testing.T) {
	raw := []byte(`From: reader@example.com
Delivered-To: stop+tok42@news.example.org
To: lettre@news.example.org
Subject: hello

Bonjour.
`)
	if got := Classify(raw, Options{}); got.Kind != Reply {
		t.Errorf("Classify(default options) = %q, want %q", got.Kind, Reply)
	}
	got := Classify(raw, Options{UnsubscribeLocal: "stop"})
	if got.Kind != Unsubscribe || got.UnsubscribeToken != "tok42" {
		t.Errorf("Classify(UnsubscribeLocal stop) = %q token %q, want %q token %q", got.Kind, got.UnsubscribeToken, Unsubscribe, "tok42")
	}
	bounce := []byte(dsn("Undelivered Mail Returned to Sender", "Final-Recipient: rfc822; reader@example.com\nAction: failed\nStatus: 5.1.1\n", bulletinOriginal))
	if got := Classify(bounce, Options{BounceLocal: "retour"}); got.VERPToken != "" {
		t.Errorf("Classify(BounceLocal retour).VERPToken = %q, want none", got.VERPToken)
	}
}

func TestContractJSON(t *testing.T) {
	got, err := json.Marshal(Classify([]byte("From: a@example.com\nSubject: hi\n\nhello\n"), Options{}).Contract("reply.eml"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"file":"reply.eml","kind":"reply","recipients":[],"status":"","diagnostic":""}`
	if string(got) != want {
		t.Errorf("Contract = %s, want %s", got, want)
	}
	raw := dsn("Undelivered Mail Returned to Sender", "Final-Recipient: rfc822; Reader@Example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n", bulletinOriginal)
	got, err = json.Marshal(Classify([]byte(raw), Options{}).Contract("b.eml"))
	if err != nil {
		t.Fatal(err)
	}
	want = `{"file":"b.eml","kind":"hard","recipients":["reader@example.com"],"status":"5.1.1","diagnostic":"550 5.1.1 user unknown"}`
	if string(got) != want {
		t.Errorf("Contract = %s, want %s", got, want)
	}
}
