import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/config';
import { ObjectStorage } from '../../src/storage/object-storage';
import { baseTestEnv } from '../support/app';

/** S3_CREATE_BUCKET against an S3 server of another region: start-up stops with a reason an operator can act on. */
describe('S3 in another region than S3_REGION', () => {
  it('names S3_REGION (and what S3 said) when the bucket check is refused with HTTP 400', async () => {
    // The test S3 server runs in us-east-1.
    const storage = new ObjectStorage(
      loadConfig({ ...baseTestEnv(), S3_REGION: 'eu-central-1', S3_BUCKET: `herald-${randomBytes(5).toString('hex')}` }),
    );
    try {
      await expect(storage.ensureBucket()).rejects.toThrow(/HTTP 400.*S3_REGION \(eu-central-1\)/);
    } finally {
      storage.onModuleDestroy();
    }
  });
});
