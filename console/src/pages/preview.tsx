// A look at one object: its metadata, tags, versions (versions.tsx), and the start of it when it is text, CSV or
// JSON (as text, never as markup), a Parquet file's schema (from its footer), or the image itself (through a
// presigned link).
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { presignedGet, sessionOrLogin } from '../client.js';
import { isParquet, parquetSummary, type ParquetSummary } from '../parquet-schema.js';
import { getObjectTags, headObject, type ObjectHead, putObjectTags, readStart } from '../s3.js';
import { ErrorLine, formatSize } from './common.js';
import { Versions } from './versions.js';

const PREVIEW_BYTES = 64 * 1024;
const IMAGE_LINK_SECONDS = 300;
const TEXT_EXTENSIONS = /\.(txt|csv|tsv|json|jsonl|ndjson|md|log|xml|yaml|yml)$/i;

const isText = (key: string, type: string) =>
  type.startsWith('text/') || type === 'application/json' || TEXT_EXTENSIONS.test(key);

export function Preview({ bucket, objectKey }: { bucket: string; objectKey: string }) {
  const [head, setHead] = useState<ObjectHead>();
  const [textStart, setTextStart] = useState<string>();
  const [image, setImage] = useState<string>();
  const [parquet, setParquet] = useState<ParquetSummary>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    setHead(undefined);
    setTextStart(undefined);
    setImage(undefined);
    setParquet(undefined);
    setError(undefined);
    (async () => {
      const h = await headObject(bucket, objectKey);
      setHead(h);
      if (h.type.startsWith('image/')) setImage(await presignedGet(bucket, objectKey, IMAGE_LINK_SECONDS));
      else if (isParquet(objectKey, h.type)) setParquet(await parquetSummary(bucket, objectKey, h.size));
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
      <ObjectTags bucket={bucket} objectKey={objectKey} />
      <Versions bucket={bucket} objectKey={objectKey} />
      <ShareLink bucket={bucket} objectKey={objectKey} />
      {textStart !== undefined && <pre data-testid="preview-text">{textStart}</pre>}
      {parquet && <ParquetSchema summary={parquet} />}
      {image && <img src={image} alt={objectKey} />}
    </aside>
  );
}

function ParquetSchema({ summary }: { summary: ParquetSummary }) {
  return (
    <div data-testid="parquet-schema">
      <p>
        Parquet: {summary.rows.toLocaleString()} rows in {summary.rowGroups} row group
        {summary.rowGroups === 1 ? '' : 's'}
        {summary.createdBy && `, written by ${summary.createdBy}`}
      </p>
      <table>
        <thead>
          <tr>
            <th>Column</th>
            <th>Type</th>
            <th>Logical type</th>
            <th>Repetition</th>
          </tr>
        </thead>
        <tbody>
          {summary.columns.map((c) => (
            <tr key={c.path}>
              <td>{c.path}</td>
              <td>{c.type}</td>
              <td>{c.logical}</td>
              <td>{c.repetition}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A presigned link for others. It is signed with this session's temporary credentials, so it works at most as
 * long as the session does (an hour from login), whatever the chosen duration.
 */
function ShareLink({ bucket, objectKey }: { bucket: string; objectKey: string }) {
  const [minutes, setMinutes] = useState(15);
  const [link, setLink] = useState<string>();
  const [error, setError] = useState<unknown>();
  useEffect(() => setLink(undefined), [bucket, objectKey]);
  const make = async () => {
    setError(undefined);
    try {
      const session = sessionOrLogin();
      const left = Math.floor((session.expiresAt - Date.now()) / 1000);
      const path = await presignedGet(bucket, objectKey, Math.max(1, Math.min(minutes * 60, left)));
      setLink(new URL(path, location.href).href);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="share">
      <label>
        Share for{' '}
        <input
          name="shareMinutes"
          type="number"
          min={1}
          max={60}
          value={minutes}
          onInput={(e) => setMinutes(Number(e.currentTarget.value) || 1)}
        />{' '}
        minutes
      </label>{' '}
      <button type="button" onClick={() => void make()}>
        Make link
      </button>
      <ErrorLine error={error} />
      {link && (
        <p>
          <input class="link-text" data-testid="share-link" readOnly value={link} />
          <br />
          <small>Valid until this session ends at the latest (links are signed with its credentials).</small>
        </p>
      )}
    </div>
  );
}

/** The object's tags: listed, set (a key again replaces its value), removed. */
function ObjectTags({ bucket, objectKey }: { bucket: string; objectKey: string }) {
  const [tags, setTags] = useState<[string, string][]>();
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>();
  const reload = () => getObjectTags(bucket, objectKey).then(setTags, setError);
  useEffect(() => {
    setTags(undefined);
    setError(undefined);
    void reload();
  }, [bucket, objectKey]);
  const save = async (next: [string, string][]) => {
    setError(undefined);
    try {
      await putObjectTags(bucket, objectKey, next);
      await reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="object-tags" data-testid="object-tags">
      <h4>Tags</h4>
      <ErrorLine error={error} />
      {tags && (
        <ul>
          {tags.map(([k, v]) => (
            <li key={k}>
              {k} = {v}{' '}
              <button type="button" class="link" onClick={() => void save(tags.filter(([x]) => x !== k))}>
                remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {tags && (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void save([...tags.filter(([x]) => x !== key), [key, value]]);
          }}
        >
          <input name="objectTagKey" placeholder="key" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
          <input
            name="objectTagValue"
            placeholder="value"
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
          <button type="submit">Set tag</button>
        </form>
      )}
    </div>
  );
}
