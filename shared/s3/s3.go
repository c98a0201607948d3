// Package s3 is the objects.Store on Amazon S3 (gofakes3 locally), where participant video lives.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"lookit.dev/platform/shared/objects"
)

// Options configures a client. Endpoint is empty for AWS; stand-ins need path-style addressing.
type Options struct {
	Region    string
	Endpoint  string
	AccessKey string // empty: the default credential chain
	SecretKey string
}

// NewClient returns an S3 client for o.
func NewClient(ctx context.Context, o Options) (*awss3.Client, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(o.Region)}
	if o.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: config: %w", err)
	}
	return awss3.NewFromConfig(cfg, func(so *awss3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
			so.UsePathStyle = true
		}
	}), nil
}

// Bucket stores objects in one S3 bucket.
type Bucket struct {
	Client *awss3.Client
	Name   string
}

var _ objects.Store = (*Bucket)(nil)

func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, contentType string) error {
	// PutObject needs a seekable body to sign it; video uploads of any size go through signed PUT
	// URLs or the recorder's multipart upload, so Put is for small objects.
	data, err := io.ReadAll(io.LimitReader(r, 64<<20+1))
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", key, err)
	}
	if len(data) > 64<<20 {
		return fmt.Errorf("s3: put %s: object over 64 MiB; use a signed PUT URL", key)
	}
	_, err = b.Client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: &b.Name, Key: &key, Body: bytes.NewReader(data), ContentType: &contentType,
	})
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", key, err)
	}
	return nil
}

func (b *Bucket) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := b.Client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &b.Name, Key: &key})
	if notFound(err) {
		return nil, objects.ErrNotExist
	}
	if err != nil {
		return nil, fmt.Errorf("s3: get %s: %w", key, err)
	}
	return out.Body, nil
}

func (b *Bucket) Delete(ctx context.Context, key string) error {
	_, err := b.Client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &b.Name, Key: &key})
	if err != nil && !notFound(err) {
		return fmt.Errorf("s3: delete %s: %w", key, err)
	}
	return nil
}

func (b *Bucket) SignedURL(ctx context.Context, key, method string, expiry time.Duration) (string, error) {
	p := awss3.NewPresignClient(b.Client)
	var (
		req *v4.PresignedHTTPRequest
		err error
	)
	switch method {
	case http.MethodGet:
		req, err = p.PresignGetObject(ctx, &awss3.GetObjectInput{Bucket: &b.Name, Key: &key}, awss3.WithPresignExpires(expiry))
	case http.MethodPut:
		req, err = p.PresignPutObject(ctx, &awss3.PutObjectInput{Bucket: &b.Name, Key: &key}, awss3.WithPresignExpires(expiry))
	default:
		return "", fmt.Errorf("s3: signed URL method %s not allowed", method)
	}
	if err != nil {
		return "", fmt.Errorf("s3: sign %s: %w", key, err)
	}
	return req.URL, nil
}

// DeleteAll deletes keys in one request (S3 takes up to 1,000); missing keys are not errors.
func (b *Bucket) DeleteAll(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if len(keys) > 1000 {
		return fmt.Errorf("s3: delete %d keys: at most 1,000 at once", len(keys))
	}
	ids := make([]types.ObjectIdentifier, len(keys))
	for i := range keys {
		ids[i] = types.ObjectIdentifier{Key: &keys[i]}
	}
	out, err := b.Client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: &b.Name,
		Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
	if err != nil {
		return fmt.Errorf("s3: delete %s: %w", strings.Join(keys, ", "), err)
	}
	var errs []error
	for _, e := range out.Errors {
		if aws.ToString(e.Code) == "NoSuchKey" {
			continue
		}
		errs = append(errs, fmt.Errorf("s3: delete %s: %s: %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message)))
	}
	return errors.Join(errs...)
}

// Copy copies src to dst within the bucket on the server side, so video never passes through us.
// S3 copies at most 5 GB in one request.
func (b *Bucket) Copy(ctx context.Context, src, dst string) error {
	_, err := b.Client.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket: &b.Name, Key: &dst, CopySource: aws.String(copySource(b.Name, src)),
	})
	if missingCopySource(err) {
		return fmt.Errorf("s3: copy %s to %s: %w", src, dst, objects.ErrNotExist)
	}
	if err != nil {
		return fmt.Errorf("s3: copy %s to %s: %w", src, dst, err)
	}
	return nil
}

// copySource is the x-amz-copy-source value: bucket/key with the key URL-encoded. '+' is encoded
// too because servers that query-unescape the header (gofakes3 does) would read it as a space.
func copySource(bucket, key string) string {
	return bucket + "/" + strings.ReplaceAll(url.PathEscape(key), "+", "%2B")
}

// missingCopySource reports a copy whose source object is missing. S3 answers 404 NoSuchKey; any
// other 404 except NoSuchBucket (a configuration error) is taken to mean the same.
func missingCopySource(err error) bool {
	var re *smithyhttp.ResponseError
	var ae smithy.APIError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound &&
		!(errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket")
}

// Exists reports whether key is in the bucket without fetching it. A HEAD response has no body
// to carry an error code, so a missing bucket also reads as false; without s3:ListBucket, S3
// answers 403 rather than 404 for a missing key, which is returned as an error.
func (b *Bucket) Exists(ctx context.Context, key string) (bool, error) {
	_, err := b.Client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &b.Name, Key: &key})
	if notFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("s3: head %s: %w", key, err)
	}
	return true, nil
}

// DownloadURL returns a signed GET URL whose response makes the browser save the object as
// filename instead of playing it inline.
func (b *Bucket) DownloadURL(ctx context.Context, key, filename string, expiry time.Duration) (string, error) {
	disposition := `attachment; filename="` + attachmentName(filename, key) + `"`
	req, err := awss3.NewPresignClient(b.Client).PresignGetObject(ctx, &awss3.GetObjectInput{
		Bucket: &b.Name, Key: &key, ResponseContentDisposition: &disposition,
	}, awss3.WithPresignExpires(expiry))
	if err != nil {
		return "", fmt.Errorf("s3: sign download %s: %w", key, err)
	}
	return req.URL, nil
}

// attachmentName makes filename safe inside a quoted Content-Disposition parameter: printable
// ASCII without quotes or backslashes. If nothing is left it falls back to the key's base name.
func attachmentName(filename, key string) string {
	clean := func(s string) string {
		var sb strings.Builder
		for _, r := range s {
			if r >= 0x20 && r < 0x7f && r != '"' && r != '\\' {
				sb.WriteRune(r)
			}
		}
		return strings.TrimSpace(sb.String())
	}
	if name := clean(filename); name != "" {
		return name
	}
	if name := clean(path.Base(key)); name != "" && name != "." && name != "/" {
		return name
	}
	return "download"
}

// uploadsPageSize is how many multipart uploads one ListMultipartUploads call asks for (S3's maximum).
var uploadsPageSize int32 = 1000

// CompleteStaleUploads completes every multipart upload initiated before now-olderThan, so video
// from a recorder whose tab was closed mid-upload is kept rather than lost; uploads with no parts
// are aborted. A failing upload does not stop the others; their errors are joined.
func (b *Bucket) CompleteStaleUploads(ctx context.Context, olderThan time.Duration, now time.Time) (completed int, err error) {
	cutoff := now.Add(-olderThan)
	// List everything first: completing uploads between pages could move the listing's markers.
	// Paged by hand: the SDK paginator's repeated-token guard compares key markers only, so it
	// would stop early when one key's uploads span two pages.
	var stale []types.MultipartUpload
	in := &awss3.ListMultipartUploadsInput{Bucket: &b.Name, MaxUploads: aws.Int32(uploadsPageSize)}
	for {
		page, err := b.Client.ListMultipartUploads(ctx, in)
		if noSuchUpload(err) {
			break // gofakes3 answers this for a bucket that has never had an upload
		}
		if err != nil {
			return 0, fmt.Errorf("s3: list multipart uploads: %w", err)
		}
		for _, u := range page.Uploads {
			if u.Key != nil && u.UploadId != nil && u.Initiated != nil && u.Initiated.Before(cutoff) {
				stale = append(stale, u)
			}
		}
		key, id := aws.ToString(page.NextKeyMarker), aws.ToString(page.NextUploadIdMarker)
		if !aws.ToBool(page.IsTruncated) || key == "" ||
			(key == aws.ToString(in.KeyMarker) && id == aws.ToString(in.UploadIdMarker)) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}

	var errs []error
	for _, u := range stale {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		done, err := b.completeUpload(ctx, *u.Key, *u.UploadId)
		if err != nil {
			errs = append(errs, fmt.Errorf("s3: upload %s of %s: %w", *u.UploadId, *u.Key, err))
		}
		if done {
			completed++
		}
	}
	return completed, errors.Join(errs...)
}

// completeUpload assembles one upload from its parts, or aborts it if it has none.
func (b *Bucket) completeUpload(ctx context.Context, key, uploadID string) (completed bool, err error) {
	var parts []types.CompletedPart
	pages := awss3.NewListPartsPaginator(b.Client,
		&awss3.ListPartsInput{Bucket: &b.Name, Key: &key, UploadId: &uploadID},
		func(o *awss3.ListPartsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return false, fmt.Errorf("list parts: %w", err)
		}
		for _, p := range page.Parts {
			// Checksums, when the upload has them, must be repeated for S3 to accept the parts.
			parts = append(parts, types.CompletedPart{
				PartNumber: p.PartNumber, ETag: p.ETag,
				ChecksumCRC32: p.ChecksumCRC32, ChecksumCRC32C: p.ChecksumCRC32C,
				ChecksumCRC64NVME: p.ChecksumCRC64NVME, ChecksumSHA1: p.ChecksumSHA1,
				ChecksumSHA256: p.ChecksumSHA256,
			})
		}
	}
	if len(parts) == 0 {
		_, err := b.Client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: &b.Name, Key: &key, UploadId: &uploadID})
		if err != nil {
			return false, fmt.Errorf("abort: %w", err)
		}
		return false, nil
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(aws.ToInt32(a.PartNumber) - aws.ToInt32(b.PartNumber)) })
	_, err = b.Client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: &b.Name, Key: &key, UploadId: &uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return false, fmt.Errorf("complete: %w", err)
	}
	return true, nil
}

// EnsureBucket creates the bucket if it does not exist (local stand-ins only).
func EnsureBucket(ctx context.Context, c *awss3.Client, name string) error {
	if _, err := c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &name}); err == nil {
		return nil
	}
	_, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: &name})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("s3: create bucket %s: %w", name, err)
	}
	return nil
}

func notFound(err error) bool {
	if err == nil {
		return false
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound")
}

func noSuchUpload(err error) bool {
	var nsu *types.NoSuchUpload
	var ae smithy.APIError
	return errors.As(err, &nsu) || (errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload")
}
