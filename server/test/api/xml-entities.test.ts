import { describe, expect, it } from 'vitest';
import { parseXml } from '../../src/api/xml.js';

describe('request XML entities', () => {
  it('decodes numeric character references, as Go clients (rclone) quote ETags with &#34;', () => {
    const doc = parseXml(
      '<CompleteMultipartUpload><Part><ETag>&#34;abc&#x22;</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
      'CompleteMultipartUpload',
    );
    expect((doc.Part as { ETag: string }).ETag).toBe('"abc"');
  });

  it('decodes the five XML entities', () => {
    const doc = parseXml('<Tagging><K>&lt;&gt;&amp;&quot;&apos;</K></Tagging>', 'Tagging');
    expect(doc.K).toBe('<>&"\'');
  });
});
