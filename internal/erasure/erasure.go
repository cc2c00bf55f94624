// Package erasure erases a person (GDPR) everywhere Bulletin keeps them: the
// database, and the message files of the outbox. The console, the API and
// the command line all erase through Erase, so that none forgets a place.
package erasure

import (
	"context"
	"errors"

	"bulletin/internal/store"
	"bulletin/internal/transport/outbox"
)

// Erase erases email from st, leaving only its keyed hash, and deletes the
// outbox files (in outboxDir, config sending.outbox_dir) addressed to it.
// The files go even when st holds no such subscriber any more (an erasure
// made before files were erased too): the result is then store.ErrNotFound.
func Erase(ctx context.Context, st *store.Storage, outboxDir, email string) error {
	err := st.EraseSubscriber(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, ferr := outbox.RemoveTo(outboxDir, email); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}
