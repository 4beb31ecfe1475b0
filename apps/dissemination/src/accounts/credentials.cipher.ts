import { createCipheriv, createDecipheriv, randomBytes } from 'crypto';

/**
 * AES-256-GCM for account credentials at rest. Ciphertext format: `v1.<keyId>.<iv>.<tag>.<data>`
 * (base64url parts); the account id is bound as associated data so a ciphertext cannot be moved to
 * another account. Several keys may be loaded: the first encrypts, any decrypts (rotation).
 */
export class CredentialsCipher {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  constructor(spec: string) {
    const entries = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!entries.length) throw new Error('CREDENTIALS_KEYS: no key given');
    for (const entry of entries) {
      const [id, b64] = entry.split(':');
      if (!id || !/^[A-Za-z0-9_-]+$/.test(id) || !b64)
        throw new Error('CREDENTIALS_KEYS: expected id:base64key');
      const key = Buffer.from(b64, 'base64');
      if (key.length !== 32) throw new Error(`CREDENTIALS_KEYS: key ${id} must be 32 bytes`);
      this.keys.set(id, key);
    }
    this.currentKeyId = entries[0].split(':')[0];
  }

  encrypt(accountId: string, plaintext: unknown): { ciphertext: string; keyId: string } {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(Buffer.from(accountId));
    const data = Buffer.concat([cipher.update(JSON.stringify(plaintext), 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url'));
    return { ciphertext: ['v1', this.currentKeyId, ...parts].join('.'), keyId: this.currentKeyId };
  }

  decrypt<T = Record<string, string>>(accountId: string, ciphertext: string): T {
    const [version, keyId, iv, tag, data] = ciphertext.split('.');
    if (version !== 'v1') throw new Error('unknown credentials format');
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`credentials key ${keyId} not loaded`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(accountId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const text = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
    return JSON.parse(text) as T;
  }

  keyIdOf(ciphertext: string): string {
    return ciphertext.split('.')[1];
  }
}
