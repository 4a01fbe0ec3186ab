import {
  API_KEY_PREFIX_PATTERN,
  apiKeyPrefix,
  FeedbackBody,
  isUuid,
  leadingApiKeyPrefix,
  SendMessageBody,
} from '../src/index.js';

const SECRET = 'A'.repeat(42) + '_';

describe('the API key format', () => {
  it('names the prefix of a well-formed key only', () => {
    expect(apiKeyPrefix(`ek_1a2b3c4d_${SECRET}`)).toBe('ek_1a2b3c4d');
    expect(apiKeyPrefix(`ek_1a2b3c4d_${SECRET}x`)).toBeNull(); // 44 characters of secret
    expect(apiKeyPrefix(`ek_1A2B3C4D_${SECRET}`)).toBeNull(); // the prefix is lower-case hex
    expect(apiKeyPrefix(`sk_1a2b3c4d_${SECRET}`)).toBeNull();
  });

  it('finds the prefix of anything that starts like a key, for the audit trail', () => {
    expect(leadingApiKeyPrefix('ek_1a2b3c4d_truncated')).toBe('ek_1a2b3c4d');
    expect(leadingApiKeyPrefix('ek_1a2b')).toBeNull();
    expect(leadingApiKeyPrefix('Basic ek_1a2b3c4d')).toBeNull();
  });

  it('takes a prefix alone for revocation', () => {
    expect(API_KEY_PREFIX_PATTERN.test('ek_1a2b3c4d')).toBe(true);
    expect(API_KEY_PREFIX_PATTERN.test(`ek_1a2b3c4d_${SECRET}`)).toBe(false);
  });
});

describe('isUuid', () => {
  it('takes either case and refuses anything else', () => {
    expect(isUuid('0b6c3a2e-8f4d-4e1a-9c7b-2d5e6f7a8b9c')).toBe(true);
    expect(isUuid('0B6C3A2E-8F4D-4E1A-9C7B-2D5E6F7A8B9C')).toBe(true);
    expect(isUuid('0b6c3a2e8f4d4e1a9c7b2d5e6f7a8b9c')).toBe(false);
    expect(isUuid("0b6c3a2e-8f4d-4e1a-9c7b-2d5e6f7a8b9c' OR 1=1")).toBe(false);
  });
});

describe('request bodies', () => {
  it('a message turn carries content or asks to regenerate, never both', () => {
    expect(SendMessageBody.safeParse({ model: 'm', content: 'hi' }).success).toBe(true);
    expect(SendMessageBody.safeParse({ model: 'm', regenerate: true }).success).toBe(true);
    expect(SendMessageBody.safeParse({ model: 'm', content: 'hi', regenerate: true }).success).toBe(
      false,
    );
    expect(SendMessageBody.safeParse({ model: 'm' }).success).toBe(false);
  });

  it('a blank feedback comment is no comment', () => {
    expect(FeedbackBody.parse({ rating: 'up', comment: '   ' })).toEqual({
      rating: 'up',
      comment: null,
    });
  });
});
