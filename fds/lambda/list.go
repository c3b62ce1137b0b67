package lambda

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// pageSize is what the listings ask for: Lambda's own maximum page is 50.
const pageSize = 50

// listPages calls page with each marker until no marker comes back. A
// server that repeats a marker, or pages on past maxPages (empty pages
// with fresh markers), is stopped with ErrEndlessListing; more than
// maxItems is ErrTooManyFunctions.
func listPages(ctx context.Context, what string, maxItems, maxPages int, page func(ctx context.Context, marker *string) (n int, next *string, err error)) error {
	seen := map[string]bool{}
	var marker *string
	total := 0
	for pages := 0; ; pages++ {
		if pages > maxPages { // one more than maxPages: a last empty page is legal
			return fmt.Errorf("%s: %w: more than %d pages", what, ErrEndlessListing, maxPages)
		}
		n, next, err := page(ctx, marker)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if total += n; total > maxItems {
			return fmt.Errorf("%s: %w: more than %d", what, ErrTooManyFunctions, maxItems)
		}
		if aws.ToString(next) == "" {
			return nil
		}
		if seen[*next] {
			return fmt.Errorf("%s: %w: marker %q came back", what, ErrEndlessListing, *next)
		}
		seen[*next] = true
		marker = next
	}
}

// listVersions lists every version ($LATEST and published) of every function.
func (d *Discoverer) listVersions(ctx context.Context) ([]types.FunctionConfiguration, error) {
	var all []types.FunctionConfiguration
	err := listPages(ctx, "listing Lambda functions", d.cfg.MaxFunctions, d.cfg.MaxFunctions, func(ctx context.Context, marker *string) (int, *string, error) {
		ctx, cancel := context.WithTimeout(ctx, d.cfg.RequestTimeout)
		defer cancel()
		out, err := d.client.ListFunctions(ctx, &awslambda.ListFunctionsInput{
			FunctionVersion: types.FunctionVersionAll, Marker: marker, MaxItems: aws.Int32(pageSize)})
		if err != nil {
			return 0, nil, err
		}
		all = append(all, out.Functions...)
		return len(out.Functions), out.NextMarker, nil
	})
	return all, err
}

// listAllAliases lists the aliases of each function, Concurrency at a
// time, at most max in all. The first error cancels the rest.
func (d *Discoverer) listAllAliases(ctx context.Context, names []string, max int) (map[string][]types.AliasConfiguration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu    sync.Mutex
		out   = make(map[string][]types.AliasConfiguration, len(names))
		count int
		wg    sync.WaitGroup
		jobs  = make(chan string)
	)
	for range min(d.cfg.Concurrency, len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range jobs {
				aliases, err := d.listAliases(ctx, name, max)
				mu.Lock()
				out[name] = aliases
				count += len(aliases)
				if err == nil && count > max {
					err = fmt.Errorf("listing Lambda aliases: %w: more than %d versions and aliases", ErrTooManyFunctions, d.cfg.MaxFunctions)
				}
				mu.Unlock()
				if err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for _, name := range names {
		select {
		case jobs <- name:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

func (d *Discoverer) listAliases(ctx context.Context, name string, max int) ([]types.AliasConfiguration, error) {
	var all []types.AliasConfiguration
	err := listPages(ctx, "listing aliases of Lambda function "+name, max, d.cfg.MaxFunctions, func(ctx context.Context, marker *string) (int, *string, error) {
		ctx, cancel := context.WithTimeout(ctx, d.cfg.RequestTimeout)
		defer cancel()
		out, err := d.client.ListAliases(ctx, &awslambda.ListAliasesInput{
			FunctionName: aws.String(name), Marker: marker, MaxItems: aws.Int32(pageSize)})
		if err != nil {
			return 0, nil, err
		}
		all = append(all, out.Aliases...)
		return len(out.Aliases), out.NextMarker, nil
	})
	return all, err
}
