package edition

import (
	"fmt"
	"strings"

	"bulletin/internal/i18n"
)

// Error is one problem in an edition file, at a line.
type Error struct {
	File string
	Line int
	Msg  i18n.Message // what is wrong; the CLI prints it in English
}

// Error returns "file:line: message", in English.
func (e *Error) Error() string {
	return e.Message().String()
}

// Message returns the problem with its place, for the console to show in
// the reader's language.
func (e *Error) Message() i18n.Message {
	return i18n.M("edition.err.where", where(e.File, e.Line), e.Msg)
}

// ErrorList is every problem found in one file, in line order. Parse returns
// one so that staff fix all their mistakes in one go rather than one per run.
type ErrorList []*Error

// Error returns the problems one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.As find each *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

func where(file string, line int) string {
	if file == "" {
		file = "edition"
	}
	if line <= 0 {
		return file
	}
	return fmt.Sprintf("%s:%d", file, line)
}
