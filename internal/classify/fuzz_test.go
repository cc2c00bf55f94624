package classify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// corpusMessages returns the raw bytes of every message of the corpus.
func corpusMessages(tb testing.TB) [][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no corpus messages in %s: %v", corpusDir, err)
	}
	var out [][]byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

var validKinds = map[Kind]bool{Hard: true, Soft: true, Delayed: true, Complaint: true, AutoReply: true, Unsubscribe: true, Reply: true, Unknown: true}

// FuzzClassify feeds mutated corpus messages to classify, the function
// without Classify's recover net, so that a panic fails the fuzzer.
func FuzzClassify(f *testing.F) {
	for _, raw := range corpusMessages(f) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := classify(raw, Options{}.withDefaults())
		if !validKinds[r.Kind] {
			t.Fatalf("classify gave kind %q", r.Kind)
		}
		if r.Recipients == nil {
			t.Fatal("classify gave nil Recipients")
		}
		if !utf8.ValidString(r.Diagnostic) || utf8.RuneCountInString(r.Diagnostic) > 501 || strings.ContainsAny(r.Diagnostic, "\r\n") {
			t.Fatalf("classify gave a bad Diagnostic: %q", r.Diagnostic)
		}
		seen := map[string]bool{}
		for _, rc := range r.Recipients {
			if rc.Address != strings.ToLower(rc.Address) || seen[rc.Address] {
				t.Fatalf("classify gave recipient %q (lower-cased, deduplicated?)", rc.Address)
			}
			seen[rc.Address] = true
		}
	})
}

// BenchmarkClassify classifies the whole corpus, one message per
// iteration, and reports messages per second.
func BenchmarkClassify(b *testing.B) {
	msgs := corpusMessages(b)
	var bytes int64
	for _, m := range msgs {
		bytes += int64(len(m))
	}
	b.SetBytes(bytes / int64(len(msgs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Classify(msgs[i%len(msgs)], Options{})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
