package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Edition is the stored source of one newsletter edition: the file staff
// wrote, kept whole so that a campaign can be sent from it later even when
// the file has moved.
type Edition struct {
	ID        int64
	UUID      uuid.UUID
	Slug      string
	Title     string
	Source    string // the edition file: YAML front matter and Markdown
	Dir       string // the folder of its media files
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SaveEdition stores ed by its slug: a new edition is created, an existing
// one with the same slug gets the new source (staff correct an edition and
// add it again). It reports whether the edition was created.
func (s *Storage) SaveEdition(ctx context.Context, ed *Edition) (created bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		t := now()
		var id int64
		var u uuid.UUID
		var at time.Time
		err := tx.QueryRowContext(ctx, "SELECT id, uuid, created_at FROM editions WHERE slug = ?", ed.Slug).Scan(&id, &u, &at)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			ed.UUID, ed.CreatedAt, ed.UpdatedAt = uuid.New(), t, t
			err := tx.QueryRowContext(ctx, `INSERT INTO editions (uuid, slug, title, source, dir, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, ed.UUID.String(), ed.Slug, ed.Title, ed.Source, ed.Dir, t, t).Scan(&ed.ID)
			if err != nil {
				return err
			}
			created = true
			return err
		case err != nil:
			return err
		}
		ed.ID, ed.UUID, ed.CreatedAt, ed.UpdatedAt = id, u, at, t
		_, err = tx.ExecContext(ctx, "UPDATE editions SET title = ?, source = ?, dir = ?, updated_at = ? WHERE id = ?",
			ed.Title, ed.Source, ed.Dir, t, id)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: save edition: %w", err)
	}
	return created, nil
}

const editionColumns = "id, uuid, slug, title, source, dir, created_at, updated_at"

func scanEdition(row scanner) (*Edition, error) {
	var ed Edition
	if err := row.Scan(&ed.ID, &ed.UUID, &ed.Slug, &ed.Title, &ed.Source, &ed.Dir, &ed.CreatedAt, &ed.UpdatedAt); err != nil {
		return nil, err
	}
	return &ed, nil
}

// EditionBySlug returns the edition with this slug.
func (s *Storage) EditionBySlug(ctx context.Context, slug string) (*Edition, error) {
	return s.edition(ctx, "slug = ?", slug)
}

// EditionByID returns the edition with this row id.
func (s *Storage) EditionByID(ctx context.Context, id int64) (*Edition, error) {
	return s.edition(ctx, "id = ?", id)
}

func (s *Storage) edition(ctx context.Context, where string, arg any) (*Edition, error) {
	return queryOne(ctx, s.r, "edition", scanEdition, "SELECT "+editionColumns+" FROM editions WHERE "+where, arg)
}

// Editions returns every edition, the most recently changed first, without
// their sources.
func (s *Storage) Editions(ctx context.Context) ([]*Edition, error) {
	eds, err := queryAll(ctx, s.r, scanEdition,
		"SELECT id, uuid, slug, title, '', dir, created_at, updated_at FROM editions ORDER BY updated_at DESC, id DESC")
	if err != nil {
		return nil, fmt.Errorf("store: editions: %w", err)
	}
	return eds, nil
}

// SentSources returns the distinct edition sources frozen by the campaigns
// of edition id when they started sending: mails already delivered show
// what those sources referenced, even after the edition was changed.
func (s *Storage) SentSources(ctx context.Context, id int64) ([]string, error) {
	srcs, err := queryAll(ctx, s.r, func(row scanner) (string, error) {
		var src string
		err := row.Scan(&src)
		return src, err
	}, "SELECT DISTINCT content FROM campaigns WHERE edition_id = ? AND content IS NOT NULL", id)
	if err != nil {
		return nil, fmt.Errorf("store: sent sources: %w", err)
	}
	return srcs, nil
}
