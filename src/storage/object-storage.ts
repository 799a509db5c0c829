import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DependencyUnavailableError, errorMessage } from '../common/errors';

export interface StoredObject {
  urn: string;
  /** The public URL, when S3_PUBLIC_URL is set. */
  url?: string;
  key: string;
  bytes: number;
}

/** What a HEAD or GET tells about an object besides its bytes. */
export interface ObjectHead {
  bytes: number;
  /** S3's ETag as it sent it (quoted); for a single PUT the MD5 of the content, so it changes with the content. */
  etag?: string;
  contentType?: string;
  cacheControl?: string;
  lastModified?: Date;
  /** User metadata (x-amz-meta-*), names in lowercase. */
  metadata: Record<string, string>;
}

export interface PutOptions {
  cacheControl?: string;
  metadata?: Record<string, string>;
}

/** The one place that talks to S3 (AWS or any S3-compatible endpoint). */
@Injectable()
export class ObjectStorage implements OnModuleDestroy {
  private readonly logger = new Logger(ObjectStorage.name);
  private readonly client: S3Client;
  readonly bucket: string;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.bucket = config.s3.bucket;
    this.client = new S3Client({
      region: config.s3.region,
      endpoint: config.s3.endpoint,
      forcePathStyle: config.s3.forcePathStyle,
      credentials: config.s3.credentials,
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 3000, requestTimeout: 15000 },
    });
  }

  urn(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  /**
   * Where the object can be fetched without credentials: S3_PUBLIC_URL (a public bucket's address, a CDN in front
   * of it) followed by the key, each segment percent-encoded; undefined when no public base is configured.
   */
  publicUrl(key: string): string | undefined {
    const base = this.config.s3.publicUrl;
    if (!base) return undefined;
    return `${base}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** The URN and, when configured, the public URL of a key: what answers and callbacks say about an object. */
  locate(key: string): { urn: string; url?: string } {
    const url = this.publicUrl(key);
    return url ? { urn: this.urn(key), url } : { urn: this.urn(key) };
  }

  async put(key: string, body: Buffer, contentType: string, options: PutOptions = {}): Promise<StoredObject & { etag?: string }> {
    const put = await this.call('put', key, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.length,
          CacheControl: options.cacheControl,
          Metadata: options.metadata,
        }),
      ),
    );
    return { ...this.locate(key), key, bytes: body.length, ...(put.ETag ? { etag: put.ETag } : {}) };
  }

  /** One HEAD: size, ETag, headers and metadata, or null when there is no such object. */
  async head(key: string): Promise<ObjectHead | null> {
    try {
      const head = await this.call('head', key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
      return {
        bytes: head.ContentLength ?? 0,
        etag: head.ETag,
        contentType: head.ContentType,
        cacheControl: head.CacheControl,
        lastModified: head.LastModified,
        metadata: head.Metadata ?? {},
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** The object's bytes with what its HEAD says, or null when there is no such object. */
  async getWithHead(key: string): Promise<{ body: Buffer; head: ObjectHead } | null> {
    try {
      const result = await this.call('get', key, () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
      const body = Buffer.from(await result.Body!.transformToByteArray());
      return {
        body,
        head: {
          bytes: body.length,
          etag: result.ETag,
          contentType: result.ContentType,
          cacheControl: result.CacheControl,
          lastModified: result.LastModified,
          metadata: result.Metadata ?? {},
        },
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.call('delete', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  async exists(key: string): Promise<boolean> {
    return (await this.size(key)) !== null;
  }

  /** The object's size in bytes from one HEAD, or null when there is no such object. */
  async size(key: string): Promise<number | null> {
    try {
      const head = await this.call('exists', key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      const result = await this.call('get', key, () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
      return Buffer.from(await result.Body!.transformToByteArray());
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  presign(key: string, ttlSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: ttlSeconds });
  }

  /** Readiness: the bucket answers to our credentials. */
  async ping(): Promise<void> {
    await this.call('ping', '', () => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  /** Local runs and tests start with an empty server; production buckets are made by whoever owns them. */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (!isNotFound(error)) throw describe(error, 'ensureBucket', this.bucket, this.config.s3.region);
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
      this.logger.log({ bucket: this.bucket }, 'Created bucket');
    }
  }

  onModuleDestroy(): void {
    this.client.destroy();
  }

  private async call<T>(operation: string, key: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (isNotFound(error)) throw error;
      throw describe(error, operation, key ? `${this.bucket}/${key}` : this.bucket, this.config.s3.region);
    }
  }
}

function isNotFound(error: unknown): boolean {
  if (error instanceof S3ServiceException) {
    return error.$metadata.httpStatusCode === 404 || ['NotFound', 'NoSuchKey', 'NoSuchBucket'].includes(error.name);
  }
  return false;
}

/** Turns SDK errors into ones that say what went wrong in words an operator can act on. */
function describe(error: unknown, operation: string, target: string, region: string): Error {
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    if (status === 403 || ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied'].includes(error.name)) {
      return new StorageAccessError(
        `S3 ${operation} on ${target} was refused (${error.name}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy`,
      );
    }
    const said = error.message && !/^(Unknown|UnknownError|BadRequest|\d+)$/.test(error.message) ? `: ${error.message}` : '';
    return new DependencyUnavailableError(
      'storage',
      `S3 ${operation} on ${target} failed: ${error.name} (HTTP ${status ?? '?'})${said}${regionHint(error, region)}`,
    );
  }
  const reason = errorMessage(error);
  return new DependencyUnavailableError('storage', `S3 ${operation} on ${target} failed: ${reason}`);
}

/**
 * S3 answers a request signed for another region than the bucket's (or the server's) with 400 (a HEAD, with no body,
 * reaches the SDK as "Unknown") or a 301 redirect, often naming the right region in `x-amz-bucket-region`.
 */
const WRONG_REGION_CODES = ['Unknown', 'BadRequest', 'AuthorizationHeaderMalformed', 'PermanentRedirect', 'IllegalLocationConstraintException'];

function regionHint(error: S3ServiceException, region: string): string {
  const status = error.$metadata.httpStatusCode;
  if (status !== 400 && status !== 301) return '';
  if (!WRONG_REGION_CODES.includes(error.name) && !/region/i.test(error.message)) return '';
  const headers = (error.$response?.headers ?? {}) as Record<string, string | undefined>;
  const bucketRegion = headers['x-amz-bucket-region'];
  return ` (most likely S3_REGION (${region}) is not the region of the bucket or S3 server${bucketRegion ? `; S3 says it is ${bucketRegion}` : ''}: set S3_REGION to it)`;
}

export class StorageAccessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageAccessError';
  }
}
