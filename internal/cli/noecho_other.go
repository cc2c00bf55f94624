//go:build !linux

package cli

import (
	"errors"
	"os"
)

// readHidden is only implemented on Linux, where Bulletin runs; elsewhere
// give the password with --password-file or through a pipe.
func readHidden(f *os.File) (string, error) {
	return "", errors.New("cannot hide typing on this system: use --password-file or a pipe")
}

// isTerminal reports whether f looks like a terminal.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
