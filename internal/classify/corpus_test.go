package classify

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// corpusDir holds the bounce corpus (see its README.md for the source,
// licence and the meaning of expected.jsonl).
const corpusDir = "../../testdata/bounces"

// expectation is one line of expected.jsonl.
type expectation struct {
	File           string   `json:"file"`
	Kind           Kind     `json:"kind"`
	Status         string   `json:"status"`
	Reasons        []string `json:"reasons"`
	Recipients     []string `json:"recipients"`
	RecipientCount *int     `json:"recipient_count"`
}

func loadExpectations(t testing.TB) []expectation {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "expected.jsonl"))
	if err != nil {
		t.Fatalf("open corpus: %v", err)
	}
	defer f.Close()
	var out []expectation
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var e expectation
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("expected.jsonl:%d: %v", n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read expected.jsonl: %v", err)
	}
	return out
}

// kindAgrees compares kinds. The corpus predates the delayed kind: it
// labels delay warnings "soft" (a non-permanent failure), so a delayed
// verdict agrees with a soft label.
func kindAgrees(got, want Kind) bool {
	return got == want || (want == Soft && got == Delayed)
}

// recipientsAgree scores recipients as the corpus README says: the exact
// set when the corpus names them, the count otherwise; complaints and
// auto-replies are not scored on recipients.
func recipientsAgree(got Result, e expectation) bool {
	if e.Kind == Complaint || e.Kind == AutoReply {
		return true
	}
	addrs := got.FailedAddresses()
	if e.Recipients != nil {
		a := slices.Clone(addrs)
		b := slices.Clone(e.Recipients)
		for i := range b {
			b[i] = strings.ToLower(b[i])
		}
		slices.Sort(a)
		slices.Sort(b)
		return slices.Equal(slices.Compact(a), slices.Compact(b))
	}
	if e.RecipientCount != nil {
		return len(addrs) == *e.RecipientCount
	}
	return true
}

var familyRE = regexp.MustCompile(`^(.*?)-\d+\.eml$`)

type tally struct{ ok, n int }

func (t tally) String() string {
	if t.n == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d (%.1f%%)", t.ok, t.n, 100*float64(t.ok)/float64(t.n))
}

// TestCorpusAccuracy runs Classify over the whole corpus and fails below
// 95.6% agreement with expected.jsonl (one miss more than today's 285/297)
// or when fewer bounces than today's 284/285 agree on their recipients.
// The misses left are labels that contradict the design's meaning of hard:
// sisimai files "user unknown" words as a filter whenever the bounce does
// not show they answered RCPT TO, where an address the server says it
// does not have is dead; a 5.1.1 "User Unknown" labelled a full mailbox
// after the text of another recipient; a delay warning labelled hard,
// while the relay still retries; "@host" kept as a recipient.
func TestCorpusAccuracy(t *testing.T) {
	exps := loadExpectations(t)
	if len(exps) == 0 {
		t.Fatal("empty corpus")
	}
	var all, status, stdStatus, rcpts, addrs tally
	delayedAsSoft := 0
	byKind := map[Kind]*tally{}
	byFamily := map[string]*tally{}
	var misses []string
	for _, e := range exps {
		raw, err := os.ReadFile(filepath.Join(corpusDir, e.File))
		if err != nil {
			t.Fatalf("read %s: %v", e.File, err)
		}
		got := Classify(raw, Options{})
		rok := recipientsAgree(got, e)
		ok := kindAgrees(got.Kind, e.Kind) && rok
		if e.Kind != Complaint && e.Kind != AutoReply {
			rcpts.n++
			if rok {
				rcpts.ok++
			}
			found := got.FailedAddresses()
			for _, a := range e.Recipients {
				addrs.n++
				if slices.Contains(found, strings.ToLower(a)) {
					addrs.ok++
				}
			}
		}
		if ok && got.Kind != e.Kind {
			delayedAsSoft++
		}
		fam := e.File
		if m := familyRE.FindStringSubmatch(e.File); m != nil {
			fam = m[1]
		}
		for _, tl := range []*tally{&all, get(byKind, e.Kind), get(byFamily, fam)} {
			tl.n++
			if ok {
				tl.ok++
			}
		}
		if !ok {
			want := fmt.Sprint(e.Recipients)
			if e.Recipients == nil && e.RecipientCount != nil {
				want = fmt.Sprintf("%d recipient(s)", *e.RecipientCount)
			}
			misses = append(misses, fmt.Sprintf("%-28s got %-9s %v (%s %s) want %-9s %s %v  | %s",
				e.File, got.Kind, got.FailedAddresses(), got.Reason, got.Status, e.Kind, want, e.Reasons, got.Diagnostic))
		}
		if e.Status != "" {
			st := ""
			if len(got.Recipients) > 0 {
				st = got.Recipients[0].Status
			}
			status.n++
			if st == e.Status {
				status.ok++
			}
			// sisimai writes x.0.9xx pseudo-codes where the message
			// quotes no code at all; those cannot agree.
			if !regexp.MustCompile(`^\d\.0\.9\d\d$`).MatchString(e.Status) {
				stdStatus.n++
				if st == e.Status {
					stdStatus.ok++
				}
			}
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "corpus accuracy: %s (delayed counted as soft: %d)\n", all, delayedAsSoft)
	fmt.Fprintf(&b, "by kind:\n")
	for _, k := range sortedKeys(byKind) {
		fmt.Fprintf(&b, "  %-10s %s\n", k, byKind[k])
	}
	fmt.Fprintf(&b, "by source family:\n")
	for _, k := range sortedKeys(byFamily) {
		fmt.Fprintf(&b, "  %-22s %s\n", k, byFamily[k])
	}
	fmt.Fprintf(&b, "recipients found: %s of the bounces agree on recipients; %s of the addresses the corpus names\n", rcpts, addrs)
	fmt.Fprintf(&b, "status agreement (first recipient, informational): %s; on real RFC 3463 codes (not sisimai's x.0.9xx): %s\n", status, stdStatus)
	fmt.Fprintf(&b, "misclassified (%d):\n", len(misses))
	for _, m := range misses {
		fmt.Fprintf(&b, "  %s\n", m)
	}
	t.Log("\n" + b.String())
	if testing.Verbose() {
		fmt.Print(b.String())
	}
	if acc := float64(all.ok) / float64(all.n); acc < 0.956 {
		t.Errorf("corpus accuracy %.1f%% < 95.6%%", 100*acc)
	}
	if r := float64(rcpts.ok) / float64(rcpts.n); r < 0.996 {
		t.Errorf("recipients agree on %.1f%% of the bounces < 99.6%%", 100*r)
	}
}

func get[K comparable](m map[K]*tally, k K) *tally {
	if m[k] == nil {
		m[k] = &tally{}
	}
	return m[k]
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
