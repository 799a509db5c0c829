import { PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { requireEnv } from './servers';

/**
 * Lets anyone GET the bucket's objects, as a bucket behind S3_PUBLIC_URL is set up in production, so a test can
 * fetch a public URL Herald reports without credentials. MinIO takes AWS bucket policies.
 */
export async function makeBucketPublic(bucket: string): Promise<void> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: requireEnv('TEST_S3_ENDPOINT'),
    forcePathStyle: true,
    credentials: { accessKeyId: requireEnv('TEST_S3_ACCESS_KEY'), secretAccessKey: requireEnv('TEST_S3_SECRET_KEY') },
  });
  const policy = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: ['*'] }, Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] }],
  };
  try {
    await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
  } finally {
    client.destroy();
  }
}

/** The public base of a bucket on the test MinIO (path-style): what S3_PUBLIC_URL is set to in tests. */
export function publicBaseOf(bucket: string): string {
  return `${requireEnv('TEST_S3_ENDPOINT').replace(/\/+$/, '')}/${bucket}`;
}
