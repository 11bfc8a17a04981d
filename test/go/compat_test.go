// Go clients against a real Cairn: minio-go (signed aws-chunked uploads whose trailer lines end with a bare
// "\n", the first thing a user switching from MinIO runs into) and aws-sdk-go-v2 (headers it sends several
// times, such as X-Amz-Object-Attributes). TestMain starts Cairn from this checkout on a free loopback
// port over four temporary drive folders; `npm run test:go` (part of `npm test`) runs it. With
// S3_ENDPOINT=host:port (and S3_ACCESS_KEY, S3_SECRET_KEY) the tests run against that server instead, to
// compare with another implementation or an older build.
package compat

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

var (
	accessKey = "gocompatroot"
	secretKey = "gocompat-root-secret"
)

var endpoint string // host:port of the Cairn under test

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if ep := os.Getenv("S3_ENDPOINT"); ep != "" {
		endpoint, accessKey, secretKey = ep, os.Getenv("S3_ACCESS_KEY"), os.Getenv("S3_SECRET_KEY")
		return m.Run()
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	drives, err := os.MkdirTemp("", "cairn-go-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(drives)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	endpoint = l.Addr().String()
	l.Close()
	cmd := exec.Command("node", filepath.Join(root, "server/bin/cairn.js"), "server", "--address", endpoint,
		filepath.Join(drives, "d1"), filepath.Join(drives, "d2"), filepath.Join(drives, "d3"), filepath.Join(drives, "d4"))
	cmd.Env = append(os.Environ(), "CAIRN_ROOT_USER="+accessKey, "CAIRN_ROOT_PASSWORD="+secretKey, "CAIRN_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "starting cairn:", err)
		return 1
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	for deadline := time.Now().Add(60 * time.Second); ; {
		if res, err := http.Get("http://" + endpoint + "/health/live"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "cairn did not become live")
			return 1
		}
		time.Sleep(100 * time.Millisecond)
	}
	return m.Run()
}

func minioClient(t *testing.T, trailingHeaders bool) *minio.Client {
	t.Helper()
	c, err := minio.New(endpoint, &minio.Options{
		Creds: miniocreds.NewStaticV4(accessKey, secretKey, ""), Secure: false, TrailingHeaders: trailingHeaders,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func awsClient() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String("http://" + endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	})
}

func newBucket(t *testing.T, c *minio.Client, name string) string {
	t.Helper()
	if err := c.MakeBucket(context.Background(), name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("MakeBucket %s: %v", name, err)
	}
	return name
}

// minio-go signs uploads with checksums as STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER over plain HTTP and
// ends its trailer lines with "\n" alone; Cairn refused them (IncompleteBody) before.
func TestMinioGoSignedTrailerUpload(t *testing.T) {
	c := minioClient(t, true)
	ctx := context.Background()
	bucket := newBucket(t, c, "go-trailers")
	data := bytes.Repeat([]byte("cairn and minio-go "), 100_000) // 1.9 MB: several signed chunks
	algorithms := []minio.ChecksumType{
		minio.ChecksumCRC32C, minio.ChecksumCRC32, minio.ChecksumSHA256, minio.ChecksumCRC64NVME,
	}
	for _, cs := range algorithms {
		key := "obj-" + cs.String()
		_, err := c.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{Checksum: cs})
		if err != nil {
			t.Fatalf("PutObject with %s trailer: %v", cs, err)
		}
		st, err := c.StatObject(ctx, bucket, key, minio.StatObjectOptions{Checksum: true})
		if err != nil {
			t.Fatal(err)
		}
		if st.Size != int64(len(data)) {
			t.Fatalf("%s: size %d, want %d", cs, st.Size, len(data))
		}
		if cs == minio.ChecksumCRC32C {
			want := base64.StdEncoding.EncodeToString(binaryBE(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))))
			if st.ChecksumCRC32C != want {
				t.Fatalf("stored CRC32C %q, want %q", st.ChecksumCRC32C, want)
			}
		}
		r, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: read back %d bytes (err %v), want the %d bytes sent", cs, len(got), err, len(data))
		}
	}
}

func binaryBE(v uint32) []byte {
	return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// Object lock through minio-go: a lock-enabled bucket, a default GOVERNANCE retention read back, and a
// retained version that cannot be deleted by version id.
func TestMinioGoObjectLock(t *testing.T) {
	c := minioClient(t, false)
	ctx := context.Background()
	if err := c.MakeBucket(ctx, "go-locked", minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatal(err)
	}
	mode, days, unit := minio.Governance, uint(1), minio.Days
	if err := c.SetObjectLockConfig(ctx, "go-locked", &mode, &days, &unit); err != nil {
		t.Fatal(err)
	}
	enabled, gotMode, gotDays, gotUnit, err := c.GetObjectLockConfig(ctx, "go-locked")
	if err != nil || enabled != "Enabled" || gotMode == nil || *gotMode != minio.Governance ||
		gotDays == nil || *gotDays != 1 || gotUnit == nil || *gotUnit != minio.Days {
		t.Fatalf("lock configuration read back: %q %v %v %v %v", enabled, gotMode, gotDays, gotUnit, err)
	}
	info, err := c.PutObject(ctx, "go-locked", "k", strings.NewReader("kept"), 4, minio.PutObjectOptions{})
	if err != nil || info.VersionID == "" {
		t.Fatalf("PutObject: %v (version %q)", err, info.VersionID)
	}
	err = c.RemoveObject(ctx, "go-locked", "k", minio.RemoveObjectOptions{VersionID: info.VersionID})
	if minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("deleting a retained version: %v, want AccessDenied", err)
	}
	obj, err := c.GetObject(ctx, "go-locked", "k", minio.GetObjectOptions{VersionID: info.VersionID})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || string(got) != "kept" {
		t.Fatalf("read back after the refused delete: %q %v", got, err)
	}
}

// S3 interleaves versions and delete markers newest first; minio-go reads the list in document order.
func TestMinioGoListVersionsOrder(t *testing.T) {
	c := minioClient(t, false)
	ctx := context.Background()
	bucket := newBucket(t, c, "go-versions")
	if err := c.EnableVersioning(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, bucket, "k", strings.NewReader("v1"), 2, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveObject(ctx, bucket, "k", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for info := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if info.Err != nil {
			t.Fatal(info.Err)
		}
		got = append(got, fmt.Sprintf("%s marker=%v latest=%v", info.Key, info.IsDeleteMarker, info.IsLatest))
	}
	want := []string{"k marker=true latest=true", "k marker=false latest=false"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("versions listed as %q, want %q", got, want)
	}
}

// User metadata with characters below U+0100 (and above) comes back as sent.
func TestMinioGoNonASCIIMetadata(t *testing.T) {
	c := minioClient(t, false)
	ctx := context.Background()
	bucket := newBucket(t, c, "go-metadata")
	meta := map[string]string{"Greeting": "Olá", "City": "Zürich ☃"}
	opts := minio.PutObjectOptions{UserMetadata: meta}
	if _, err := c.PutObject(ctx, bucket, "k", strings.NewReader("x"), 1, opts); err != nil {
		t.Fatal(err)
	}
	st, err := c.StatObject(ctx, bucket, "k", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range meta {
		if st.UserMetadata[k] != v {
			t.Fatalf("metadata %s = %q, want %q", k, st.UserMetadata[k], v)
		}
	}
}

// Errors as S3 words them: clients compare codes and, for NoSuchBucket, the message.
func TestMinioGoErrors(t *testing.T) {
	c := minioClient(t, false)
	ctx := context.Background()
	err := c.RemoveBucket(ctx, "go-no-such-bucket")
	if r := minio.ToErrorResponse(err); r.Code != "NoSuchBucket" || r.Message != "The specified bucket does not exist" {
		t.Fatalf("RemoveBucket of a missing bucket: %q %q", r.Code, r.Message)
	}
	bucket := newBucket(t, c, "go-errors")
	if err := c.EnableVersioning(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	missingVersion := minio.ObjectAttributesOptions{VersionID: "0b2f5e2c-2c3a-4bb0-a7a5-66f3b1a6f0e1"}
	_, err = c.GetObjectAttributes(ctx, bucket, "missing", missingVersion)
	if code := minio.ToErrorResponse(err).Code; code != "NoSuchVersion" {
		t.Fatalf("GetObjectAttributes of a missing version: %q, want NoSuchVersion", code)
	}
}

// minio-go's ListenNotification (GET /?events=..., MinIO's listen over every bucket) is refused with 501
// NotImplemented, as Cairn does not do it; it was answered as ListBuckets, the events ignored. Listening on
// one bucket is served (test/s3/notifications-listen.test.ts).
func TestMinioGoRootListenRefused(t *testing.T) {
	c := minioClient(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	info, ok := <-c.ListenNotification(ctx, "", "", []string{"s3:ObjectCreated:*"})
	if !ok {
		t.Fatal("ListenNotification ended without an answer")
	}
	if r := minio.ToErrorResponse(info.Err); r.Code != "NotImplemented" || r.StatusCode != http.StatusNotImplemented {
		t.Fatalf("ListenNotification at the root: %v (code %q, status %d), want 501 NotImplemented", info.Err, r.Code, r.StatusCode)
	}
}

// A browser-style POST upload is answered with the object's absolute URL in Location.
func TestMinioGoPostPolicyLocation(t *testing.T) {
	c := minioClient(t, false)
	ctx := context.Background()
	bucket := newBucket(t, c, "go-post")
	p := minio.NewPostPolicy()
	_ = p.SetBucket(bucket)
	_ = p.SetKey("dir/a b.txt")
	_ = p.SetExpires(time.Now().Add(time.Hour))
	u, form, err := c.PresignedPostPolicy(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range form {
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", "a.txt")
	_, _ = fw.Write([]byte("posted"))
	_ = w.Close()
	res, err := http.Post(u.String(), w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	want := "http://" + endpoint + "/" + bucket + "/dir/a%20b.txt"
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Location") != want {
		t.Fatalf("POST answered %d with Location %q, want 204 and %q", res.StatusCode, res.Header.Get("Location"), want)
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprint(err)
}

// aws-sdk-go-v2 sends X-Amz-Object-Attributes once per attribute; SigV4 joins repeated values with ","
// (Node joined them with ", ", and the signature did not match).
func TestAwsSdkGoV2RepeatedHeaders(t *testing.T) {
	ctx := context.Background()
	c := awsClient()
	bucket := "go-attributes"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"),
		Body: strings.NewReader("hello"), ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{
		Bucket: aws.String(bucket), Key: aws.String("k"),
		ObjectAttributes: []s3types.ObjectAttributes{
			s3types.ObjectAttributesEtag, s3types.ObjectAttributesChecksum, s3types.ObjectAttributesObjectSize,
		},
	})
	if err != nil {
		t.Fatalf("GetObjectAttributes: %v", err)
	}
	crc := ""
	if out.Checksum != nil {
		crc = aws.ToString(out.Checksum.ChecksumCRC32)
	}
	if aws.ToInt64(out.ObjectSize) != 5 || crc != "NhCmhg==" || aws.ToString(out.ETag) == "" {
		t.Fatalf("GetObjectAttributes answered %+v", out)
	}
}

// More than ten object tags is BadRequest; a conditional delete with another ETag is refused and deletes nothing.
func TestAwsSdkGoV2TagsAndConditionalDelete(t *testing.T) {
	ctx := context.Background()
	c := awsClient()
	bucket := "go-tags"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	b, k := aws.String(bucket), aws.String("k")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	var tags []s3types.Tag
	for i := 0; i < 11; i++ {
		tags = append(tags, s3types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")})
	}
	tagging := &s3types.Tagging{TagSet: tags}
	_, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: k, Tagging: tagging})
	if apiCode(err) != "BadRequest" {
		t.Fatalf("11 tags: %v, want BadRequest", err)
	}
	otherETag := aws.String(`"0123456789abcdef0123456789abcdef"`)
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: k, IfMatch: otherETag})
	if apiCode(err) != "PreconditionFailed" {
		t.Fatalf("DeleteObject with another ETag: %v, want PreconditionFailed", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k}); err != nil {
		t.Fatalf("object gone after a refused conditional delete: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: k, IfMatch: aws.String("*")}); err != nil {
		t.Fatalf("DeleteObject If-Match *: %v", err)
	}
}

// Server-side encryption asked for is refused, never silently skipped: nothing is stored.
func TestAwsSdkGoV2EncryptionRefused(t *testing.T) {
	ctx := context.Background()
	c := awsClient()
	bucket := "go-sse"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	b, k := aws.String(bucket), aws.String("secret")
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("x"),
		ServerSideEncryption: s3types.ServerSideEncryptionAes256})
	if apiCode(err) != "NotImplemented" {
		t.Fatalf("PutObject with SSE-S3: %v, want NotImplemented", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k}); err == nil {
		t.Fatal("the object was stored although its encryption was refused")
	}
}
