package s3

// SetUploadsPageSize lets tests page through multipart uploads a few at a time.
func SetUploadsPageSize(n int32) (restore func()) {
	old := uploadsPageSize
	uploadsPageSize = n
	return func() { uploadsPageSize = old }
}
