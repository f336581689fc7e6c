//! One classification of AWS SDK errors for every service client: transient (retry, and after
//! the retries the DLQ) or permanent (a request that will never succeed as sent).

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Error codes AWS services use for "slow down" that arrive with a 400 status.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
    "TransactionInProgressException",
    "KMSThrottlingException",
];

/// Transient: throttling, timeouts, 5xx, unreadable responses. Permanent: bad parameters,
/// missing resources, denied access.
pub fn is_transient<E: ProvideErrorMetadata>(err: &SdkError<E, Response>) -> bool {
    match err {
        SdkError::ConstructionFailure(_) => false,
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            status >= 500
                || status == 429
                || service
                    .err()
                    .code()
                    .is_some_and(|code| THROTTLING_CODES.contains(&code))
        }
        // Timeouts, connection failures and unparseable responses.
        _ => true,
    }
}
