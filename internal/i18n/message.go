package i18n

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Message is a text for a person kept as its catalogue key and arguments
// rather than as words, so that it can be stored (an import's rejected
// rows, a campaign's history) and shown later in the language of whoever
// reads it. String gives its English form, which the CLI and the logs print.
type Message struct {
	Key string
	// Args are strings, integers (written with the reader's digit
	// grouping), Keys (translated themselves: a status, a state) or
	// Messages (a reason within a sentence).
	Args []any
}

// Key is an argument of a Message that is itself a catalogue key, such as
// "status.unsubscribed": the reader sees it translated.
type Key string

// M returns the message key with args.
func M(key string, args ...any) Message { return Message{Key: key, Args: args} }

// IsZero reports whether m holds no message.
func (m Message) IsZero() bool { return m.Key == "" }

// String returns the message in English, the language of the CLI.
func (m Message) String() string { return New("en").Msg(m) }

// Msg returns m in p's language.
func (p *Printer) Msg(m Message) string {
	if m.Key == "" {
		return ""
	}
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		switch v := a.(type) {
		case Key:
			args[i] = p.T(string(v))
		case Message:
			args[i] = p.Msg(v)
		case int:
			args[i] = p.Number(v)
		case int64:
			args[i] = p.Number(int(v))
		case json.Number:
			if n, err := v.Int64(); err == nil {
				args[i] = p.Number(int(n))
			} else {
				args[i] = v.String()
			}
		default:
			args[i] = fmt.Sprint(v)
		}
	}
	return p.T(m.Key, args...)
}

// Encode returns what a database row keeps of m: its key as the code and
// its arguments as a JSON array, a Key argument as {"key": "…"} and a
// Message argument as {"key": "…", "args": […]}.
func (m Message) Encode() (code, params string) {
	if m.Key == "" || len(m.Args) == 0 {
		return m.Key, ""
	}
	b, err := json.Marshal(encodeArgs(m.Args))
	if err != nil { // strings, integers and maps of them always marshal
		return m.Key, ""
	}
	return m.Key, string(b)
}

func encodeArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case Key:
			out[i] = map[string]any{"key": string(v)}
		case Message:
			out[i] = map[string]any{"key": v.Key, "args": encodeArgs(v.Args)}
		case int, int64:
			out[i] = v
		case json.Number:
			if _, err := v.Int64(); err == nil {
				out[i] = v
			} else {
				out[i] = v.String()
			}
		default:
			out[i] = fmt.Sprint(v)
		}
	}
	return out
}

// Decode returns the Message that Encode gave code and params for.
func Decode(code, params string) (Message, error) {
	m := Message{Key: code}
	if params == "" {
		return m, nil
	}
	dec := json.NewDecoder(strings.NewReader(params))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil {
		return Message{}, fmt.Errorf("i18n: parameters of %s: %w", code, err)
	}
	m.Args = decodeArgs(raw)
	return m, nil
}

func decodeArgs(raw []any) []any {
	out := make([]any, len(raw))
	for i, a := range raw {
		obj, ok := a.(map[string]any)
		if !ok {
			out[i] = a
			continue
		}
		key, _ := obj["key"].(string)
		if args, ok := obj["args"].([]any); ok {
			out[i] = Message{Key: key, Args: decodeArgs(args)}
		} else {
			out[i] = Key(key)
		}
	}
	return out
}

// Stored returns the message a database row keeps as a code and its
// parameters, or its free text as is (Text) when it has no code: rows
// written before codes existed hold English words, and still show. Free
// text that is empty gives the zero Message.
func Stored(code, params, text string) Message {
	if code != "" {
		if m, err := Decode(code, params); err == nil {
			return m
		}
	}
	if text == "" {
		return Message{}
	}
	return Text(text)
}

// Error is an error whose text is a Message: the CLI prints it in English
// (Error), the console in the reader's language (Printer.Err).
type Error struct{ Msg Message }

// Errorf returns an *Error of the message key with args.
func Errorf(key string, args ...any) error { return &Error{Msg: M(key, args...)} }

// Error returns the message in English.
func (e *Error) Error() string { return e.Msg.String() }

// Message returns the message, for Printer.Err.
func (e *Error) Message() Message { return e.Msg }

// Text returns a message that is s as is, in every language: the words of
// a system error or of another program, which Bulletin cannot translate.
func Text(s string) Message { return M("text", s) }

// MessageOf returns what err says as a Message: its own when it has one
// (an *Error, an importer's file error), else its text as is.
func MessageOf(err error) Message {
	var m interface{ Message() Message }
	if errors.As(err, &m) {
		return m.Message()
	}
	return Text(err.Error())
}

// Err returns err in p's language when it is, or wraps, an error with a
// Message method (an *Error, an importer's file error), and its own text
// otherwise.
func (p *Printer) Err(err error) string {
	return p.Msg(MessageOf(err))
}

// Entries returns a copy of the catalogue of lang (every part merged), for
// tests that look for one language's words in another's pages.
func Entries(lang string) map[string]string {
	out := map[string]string{}
	for k, v := range catalogues[lang] {
		out[k] = v
	}
	return out
}
