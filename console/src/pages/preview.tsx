// A look at one object: its metadata, and the start of it when it is text, CSV or JSON (as text, never as
// markup), or the image itself (through a presigned link).
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { presignedGet } from '../client.js';
import { headObject, type ObjectHead, readStart } from '../s3.js';
import { ErrorLine, formatSize } from './common.js';

const PREVIEW_BYTES = 64 * 1024;
const IMAGE_LINK_SECONDS = 300;
const TEXT_EXTENSIONS = /\.(txt|csv|tsv|json|jsonl|ndjson|md|log|xml|yaml|yml)$/i;

const isText = (key: string, type: string) =>
  type.startsWith('text/') || type === 'application/json' || TEXT_EXTENSIONS.test(key);

export function Preview({ bucket, objectKey }: { bucket: string; objectKey: string }) {
  const [head, setHead] = useState<ObjectHead>();
  const [textStart, setTextStart] = useState<string>();
  const [image, setImage] = useState<string>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    setHead(undefined);
    setTextStart(undefined);
    setImage(undefined);
    setError(undefined);
    (async () => {
      const h = await headObject(bucket, objectKey);
      setHead(h);
      if (h.type.startsWith('image/')) setImage(await presignedGet(bucket, objectKey, IMAGE_LINK_SECONDS));
      else if (h.size > 0 && isText(objectKey, h.type)) {
        const bytes = await readStart(bucket, objectKey, Math.min(PREVIEW_BYTES, h.size));
        setTextStart(new TextDecoder().decode(bytes) + (h.size > PREVIEW_BYTES ? '\n…' : ''));
      }
    })().catch(setError);
  }, [bucket, objectKey]);
  return (
    <aside class="preview" data-testid="preview">
      <h3>{objectKey}</h3>
      <ErrorLine error={error} />
      {head && (
        <dl>
          <dt>Size</dt>
          <dd>{formatSize(head.size)}</dd>
          <dt>Type</dt>
          <dd>{head.type}</dd>
          {head.metadata.map(([k, v]) => (
            <Fragment key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </Fragment>
          ))}
        </dl>
      )}
      {textStart !== undefined && <pre data-testid="preview-text">{textStart}</pre>}
      {image && <img src={image} alt={objectKey} />}
    </aside>
  );
}
