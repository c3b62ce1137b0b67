package filesource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Debounce is how long the watcher waits for a burst of file events (an
// editor's write + rename, a `cp -r`) to settle before reloading.
const Debounce = 50 * time.Millisecond

// Watch loads the directory once, then again after every change, calling
// onLoad each time until ctx is done. Subdirectories created later are
// watched too.
func (l *Loader) Watch(ctx context.Context, onLoad func(Snapshot, error)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching %s: %w", l.dir, err)
	}
	defer w.Close()
	if err := addDirs(w, l.dir); err != nil {
		return fmt.Errorf("watching %s: %w", l.dir, err)
	}
	onLoad(l.Load())
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					_ = addDirs(w, ev.Name) // a vanished dir needs no watch
				}
			}
			timer.Reset(Debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			onLoad(Snapshot{}, fmt.Errorf("watching %s: %w", l.dir, err))
		case <-timer.C:
			onLoad(l.Load())
		}
	}
}

func addDirs(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			return nil
		}
		// Dot directories (editors' swap dirs, a state dir) are not config.
		if p != root && strings.HasPrefix(e.Name(), ".") {
			return filepath.SkipDir
		}
		return w.Add(p)
	})
}
