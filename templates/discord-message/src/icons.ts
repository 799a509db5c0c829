// The client's small pictures, drawn as SVG paths (static, no user input): default avatars, badges, file types.
import type { FileType } from '../../../src/render/discord-message.view';
import type { IconPath } from './dom';

/** Discord's six default avatar colours, in the order of their index (embed/avatars/<index>.png). */
export const DEFAULT_AVATAR_COLORS = ['#5865f2', '#757e8a', '#3ba55c', '#faa61a', '#ed4245', '#eb459f'] as const;

/** Discord's logo ("Clyde") in a 24×24 box; its eyes are holes, so the avatar's colour shows through them. */
export const CLYDE =
  'M19.27 5.33C17.94 4.71 16.5 4.26 15 4a.09.09 0 0 0-.07.03c-.18.33-.39.76-.53 1.09a16.09 16.09 0 0 0-4.8 0c-.14-.34-.35-.76-.54-1.09' +
  'c-.01-.02-.04-.03-.07-.03c-1.5.26-2.93.71-4.27 1.33c-.01 0-.02.01-.03.02c-2.72 4.07-3.47 8.03-3.1 11.95c0 .02.01.04.03.05' +
  'c1.8 1.32 3.53 2.12 5.24 2.65c.03.01.06 0 .07-.02c.4-.55.76-1.13 1.07-1.74c.02-.04 0-.08-.04-.09c-.57-.22-1.11-.48-1.64-.78' +
  'c-.04-.02-.04-.08-.01-.11c.11-.08.22-.17.33-.25c.02-.02.05-.02.07-.01c3.44 1.57 7.15 1.57 10.55 0c.02-.01.05-.01.07.01' +
  'c.11.09.22.17.33.26c.04.03.04.09-.01.11c-.52.31-1.07.56-1.64.78c-.04.01-.05.06-.04.09c.32.61.68 1.19 1.07 1.74c.03.01.06.02.09.01' +
  'c1.72-.53 3.45-1.33 5.25-2.65c.02-.01.03-.03.03-.05c.44-4.53-.73-8.46-3.1-11.95c-.01-.01-.02-.02-.04-.02Z' +
  'M8.52 14.91c-1.03 0-1.89-.95-1.89-2.12s.84-2.12 1.89-2.12c1.06 0 1.9.96 1.89 2.12c0 1.17-.84 2.12-1.89 2.12Z' +
  'm6.97 0c-1.03 0-1.89-.95-1.89-2.12s.84-2.12 1.89-2.12c1.06 0 1.9.96 1.89 2.12c0 1.17-.83 2.12-1.89 2.12Z';

/** The check mark of a verified app's tag (the client's 16×16 glyph). */
export const VERIFIED_CHECK: IconPath[] = [{ d: 'M7.4 11.17 4 8.62l1-1.36 2 1.53L10.64 4 12 5z', fill: 'currentColor' }];

/** A framed landscape (hills and a sun): the client's picture glyph, for failed pictures and replies to attachments. */
export function pictureIcon(color: string): IconPath[] {
  return [
    { d: 'M4 4.5h16a1.5 1.5 0 0 1 1.5 1.5v12a1.5 1.5 0 0 1-1.5 1.5H4A1.5 1.5 0 0 1 2.5 18V6A1.5 1.5 0 0 1 4 4.5Z', fill: 'none', stroke: color, strokeWidth: 1.5 },
    { d: 'M4.5 17.5 9.5 11l3.5 4.2 2.5-3 4 5.3Z', fill: color },
    { d: 'M16 9.5a1.75 1.75 0 1 0 0-3.5 1.75 1.75 0 0 0 0 3.5Z', fill: color },
  ];
}

/** A play triangle, centred in a 24×24 box. */
export const PLAY: IconPath[] = [{ d: 'M8 5.14v13.72a1 1 0 0 0 1.52.85l10.98-6.86a1 1 0 0 0 0-1.7L9.52 4.29A1 1 0 0 0 8 5.14Z', fill: '#ffffff' }];

/** The download arrow of a file card (24×24). */
export const DOWNLOAD: IconPath[] = [
  { d: 'M12 3a1 1 0 0 1 1 1v9.59l3.3-3.3a1 1 0 1 1 1.4 1.42l-5 5a1 1 0 0 1-1.4 0l-5-5a1 1 0 1 1 1.4-1.42l3.3 3.3V4a1 1 0 0 1 1-1Z', fill: 'currentColor' },
  { d: 'M4 16a1 1 0 0 1 1 1v2a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-2a1 1 0 1 1 2 0v2a3 3 0 0 1-3 3H6a3 3 0 0 1-3-3v-2a1 1 0 0 1 1-1Z', fill: 'currentColor' },
];

// File cards: a page with a folded corner (30×40) in the type's colour, and the type's mark on it.
const PAGE = 'M3 0h17l10 10v27a3 3 0 0 1-3 3H3a3 3 0 0 1-3-3V3a3 3 0 0 1 3-3Z';
const FOLD = 'M20 0v7a3 3 0 0 0 3 3h7L20 0Z';

const FILE_MARKS: Record<FileType, { color: string; fold: string; mark: IconPath[] }> = {
  document: { color: '#5865f2', fold: '#8e98f4', mark: [{ d: 'M7 18h16v2H7zm0 5h16v2H7zm0 5h11v2H7z', fill: '#ffffff' }] },
  code: {
    color: '#3ba55c',
    fold: '#86d1a0',
    mark: [{ d: 'm11.6 19.6-4.2 4.4 4.2 4.4 1.4-1.4-2.9-3 2.9-3zm6.8 0L17 21l2.9 3-2.9 3 1.4 1.4 4.2-4.4zM16.3 17l-4.4 14h1.8L18.1 17z', fill: '#ffffff' }],
  },
  archive: {
    color: '#faa61a',
    fold: '#fcd08c',
    mark: [{ d: 'M13 12h4v3h-4zm0 4h4v3h-4zm0 4h4v3h-4zm-1 4h6v6a1 1 0 0 1-1 1h-4a1 1 0 0 1-1-1zm2 3v2h2v-2z', fill: '#ffffff' }],
  },
  spreadsheet: {
    color: '#23a55a',
    fold: '#7fd3a2',
    mark: [{ d: 'M7 17h16v14H7zm2 2v3h5v-3zm7 0v3h5v-3zm-7 5v5h5v-5zm7 0v5h5v-5z', fill: '#ffffff' }],
  },
  audio: {
    color: '#eb459f',
    fold: '#f5a1cf',
    mark: [{ d: 'M20 15v11.3a3 3 0 1 1-2-2.8V18.5l-6 1.6v8.2a3 3 0 1 1-2-2.8V17.5z', fill: '#ffffff' }],
  },
  video: { color: '#ed4245', fold: '#f6a0a2', mark: [{ d: 'M11 17.5v11a1 1 0 0 0 1.5.86l9-5.5a1 1 0 0 0 0-1.72l-9-5.5A1 1 0 0 0 11 17.5Z', fill: '#ffffff' }] },
  image: {
    color: '#00a8fc',
    fold: '#80d4fe',
    mark: [
      { d: 'm7 30 5-7 3.5 4.5 2.5-3 5 5.5z', fill: '#ffffff' },
      { d: 'M19 21a2 2 0 1 0 0-4 2 2 0 0 0 0 4Z', fill: '#ffffff' },
    ],
  },
  unknown: { color: '#80848e', fold: '#b5bac1', mark: [{ d: 'M14 27h2v2h-2zm1-11a4 4 0 0 1 2.2 7.3c-.8.5-1.2 1-1.2 1.7v.5h-2V25c0-1.5.9-2.4 1.9-3a2 2 0 1 0-2.9-1.8h-2A4 4 0 0 1 15 16Z', fill: '#ffffff' }] },
};

export function fileIcon(type: FileType): IconPath[] {
  const { color, fold, mark } = FILE_MARKS[type] ?? FILE_MARKS.unknown;
  return [{ d: PAGE, fill: color }, { d: FOLD, fill: fold }, ...mark];
}
