// The object browser: one "folder" (prefix, delimiter '/') of a bucket at a time, paged; upload with progress,
// download through a presigned link, delete, preview.
import { useEffect, useState } from 'preact/hooks';
import { presignedGet } from '../client.js';
import { deleteObject, type Listing, listObjects } from '../s3.js';
import { objectsHref, settingsHref } from '../route.js';
import { type Progress, upload } from '../upload.js';
import { ConfirmButton, ErrorLine, formatSize } from './common.js';
import { Preview } from './preview.js';

const DOWNLOAD_LINK_SECONDS = 300;

export function ObjectsPage({ bucket, prefix }: { bucket: string; prefix: string }) {
  const [listing, setListing] = useState<Listing>();
  // Continuation tokens of the pages before this one (for "Previous"), and this page's.
  const [pages, setPages] = useState<(string | undefined)[]>([undefined]);
  const [error, setError] = useState<unknown>();
  const [progress, setProgress] = useState<Progress>();
  const [selected, setSelected] = useState<string>();
  const token = pages[pages.length - 1];
  const load = () =>
    listObjects(bucket, prefix, token).then(
      (l) => (setListing(l), setError(undefined)),
      (e) => (setListing(undefined), setError(e)),
    );
  useEffect(() => {
    setPages([undefined]);
    setSelected(undefined);
  }, [bucket, prefix]);
  useEffect(() => void load(), [bucket, prefix, token]);

  const onFiles = async (files: FileList | null) => {
    if (!files) return;
    setError(undefined);
    try {
      for (const file of Array.from(files)) await upload(bucket, prefix + file.name, file, setProgress);
      await load();
    } catch (e) {
      setError(e);
    }
  };
  const download = async (key: string) => {
    try {
      const href = await presignedGet(bucket, key, DOWNLOAD_LINK_SECONDS, key.slice(key.lastIndexOf('/') + 1));
      const a = document.createElement('a');
      a.href = href;
      a.download = '';
      a.click();
    } catch (e) {
      setError(e);
    }
  };
  const remove = async (key: string) => {
    try {
      await deleteObject(bucket, key);
      if (selected === key) setSelected(undefined);
      await load();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section>
      <h2>
        <a href="#/">Buckets</a> / <Crumbs bucket={bucket} prefix={prefix} />
      </h2>
      <div class="toolbar">
        <a href={settingsHref(bucket)}>Bucket settings</a>
        <label class="button">
          Upload files
          <input type="file" multiple data-testid="upload" onChange={(e) => void onFiles(e.currentTarget.files)} />
        </label>
      </div>
      {progress && <UploadProgress p={progress} />}
      <ErrorLine error={error} />
      {listing && (
        <table data-testid="objects">
          <thead>
            <tr>
              <th>Name</th>
              <th>Size</th>
              <th>Modified</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {listing.prefixes.map((p) => (
              <tr key={`p:${p}`}>
                <td colSpan={4}>
                  <a href={objectsHref(bucket, p)}>{p.slice(prefix.length)}</a>
                </td>
              </tr>
            ))}
            {listing.objects.map((o) => (
              <tr key={`o:${o.key}`} class={selected === o.key ? 'selected' : ''}>
                <td>
                  <button type="button" class="link" onClick={() => setSelected(o.key)}>
                    {o.key.slice(prefix.length)}
                  </button>
                </td>
                <td>{formatSize(o.size)}</td>
                <td>{new Date(o.modified).toLocaleString()}</td>
                <td class="actions">
                  <button type="button" onClick={() => void download(o.key)}>
                    Download
                  </button>
                  <ConfirmButton label="Delete" onConfirm={() => void remove(o.key)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {listing && listing.prefixes.length === 0 && listing.objects.length === 0 && <p>Nothing here yet.</p>}
      <div class="pager">
        <button type="button" disabled={pages.length < 2} onClick={() => setPages(pages.slice(0, -1))}>
          Previous
        </button>
        <button type="button" disabled={!listing?.next} onClick={() => setPages([...pages, listing!.next])}>
          Next
        </button>
      </div>
      {selected && <Preview bucket={bucket} objectKey={selected} />}
    </section>
  );
}

function Crumbs({ bucket, prefix }: { bucket: string; prefix: string }) {
  const parts = prefix.split('/').filter((p, i, a) => p !== '' || i < a.length - 1);
  let at = '';
  return (
    <span>
      <a href={objectsHref(bucket)}>{bucket}</a>
      {parts.map((p) => {
        at += `${p}/`;
        return (
          <span key={at}>
            {' / '}
            <a href={objectsHref(bucket, at)}>{p}</a>
          </span>
        );
      })}
    </span>
  );
}

function UploadProgress({ p }: { p: Progress }) {
  const percent = p.total === 0 ? 100 : Math.floor((p.sent / p.total) * 100);
  return (
    <div class="progress" data-testid="progress">
      <progress max={100} value={percent} />
      <span data-testid="progress-text">{percent}%</span>
      {p.parts > 1 && (
        <span>
          {' '}
          part {p.part} of {p.parts}: <progress max={p.partSize} value={p.partSent} />
        </span>
      )}
    </div>
  );
}
