package classify_test

import (
	"encoding/json"
	"fmt"

	"bulletin/internal/classify"
)

func ExampleClassify() {
	raw := []byte(`From: MAILER-DAEMON@mx.example.net
To: bounces+0011aabb@news.example.org
Subject: failure notice

Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<Reader@Example.com>:
Sorry, no mailbox here by that name. (#5.1.1)
`)
	r := classify.Classify(raw, classify.Options{})
	fmt.Println(r.Kind, r.Reason, r.Status, r.FailedAddresses(), r.VERPToken)
	line, _ := json.Marshal(r.Contract("bounce.eml"))
	fmt.Println(string(line))
	// Output:
	// hard user_unknown 5.1.1 [reader@example.com] 0011aabb
	// {"file":"bounce.eml","kind":"hard","recipients":["reader@example.com"],"status":"5.1.1","diagnostic":"Sorry, no mailbox here by that name. (#5.1.1)"}
}
