//! The scan's errors: an AWS S3 Select error code and a message. They cross to JS as
//! `CODE: message` in the napi error (the TS face turns them back into SelectError).
use napi::{Error, Status};

#[derive(Debug)]
pub struct ScanError {
    pub code: &'static str,
    pub message: String,
}

pub type ScanResult<T> = std::result::Result<T, ScanError>;

impl ScanError {
    pub fn parsing(message: impl Into<String>) -> Self {
        ScanError { code: "ParquetParsingError", message: message.into() }
    }

    pub fn block_size(message: impl Into<String>) -> Self {
        ScanError { code: "OverMaxParquetBlockSize", message: message.into() }
    }

    pub fn codec(message: impl Into<String>) -> Self {
        ScanError { code: "ParquetUnsupportedCompressionCodec", message: message.into() }
    }

    pub fn into_napi(self) -> Error {
        Error::new(Status::GenericFailure, format!("{}: {}", self.code, self.message))
    }
}

impl From<parquet::errors::ParquetError> for ScanError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        let text = e.to_string();
        // The crate names a codec it was built without ("Disabled feature at compile time: lzo").
        if text.contains("compile time") || text.to_lowercase().contains("codec") && text.contains("not supported") {
            return ScanError::codec(format!("Unsupported Parquet compression codec: {text}"));
        }
        ScanError::parsing(format!("Invalid Parquet data: {text}"))
    }
}

impl From<arrow_schema::ArrowError> for ScanError {
    fn from(e: arrow_schema::ArrowError) -> Self {
        ScanError::parsing(format!("Invalid Parquet data: {e}"))
    }
}
