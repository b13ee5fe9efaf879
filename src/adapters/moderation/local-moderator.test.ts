import { describe, expect, it } from 'vitest';
import { createLocalModerator } from './local-moderator.js';

const moderator = createLocalModerator();
const screen = (...texts: string[]) => moderator.moderate(texts, new AbortController().signal);

describe('createLocalModerator', () => {
  it('finds listed phrases as whole words, in any case, with their severity', async () => {
    await expect(screen('We will KILL   YOU')).resolves.toEqual([
      { category: 'violence', severity: 'high', score: 1 },
    ]);
    await expect(screen('Go kill yourself')).resolves.toEqual([
      { category: 'self-harm', severity: 'high', score: 1 },
    ]);
    await expect(screen('Skill yourself up this spring')).resolves.toEqual([]);
  });

  it('reports the worst match per category across all texts', async () => {
    await expect(screen('A price massacre', 'or we hurt you')).resolves.toEqual([
      { category: 'violence', severity: 'medium', score: 1 },
    ]);
  });

  it('reads typographic apostrophes as plain ones', async () => {
    await expect(screen('You\u2019re worthless')).resolves.toEqual([
      { category: 'harassment', severity: 'medium', score: 1 },
    ]);
  });

  it('reads copy as a reader sees it: folded letters, invisible characters, hyphens', async () => {
    for (const written of [
      'Go ｋｉｌｌ ｙｏｕｒｓｅｌｆ',
      'Go ki\u200Bll yourself',
      'Go kill your\u00ADself',
      'Go kill\u2060 yourself',
      'Go 𝐤𝐢𝐥𝐥 𝐲𝐨𝐮𝐫𝐬𝐞𝐥𝐟',
      'Go kill-yourself',
    ])
      await expect(screen(written), written).resolves.toEqual([
        { category: 'self-harm', severity: 'high', score: 1 },
      ]);
    await expect(screen('You\u02BCre worthless')).resolves.toEqual([
      { category: 'harassment', severity: 'medium', score: 1 },
    ]);
  });

  it('blocks none of the words stores use figuratively', async () => {
    for (const copy of [
      'Killer deals this weekend only',
      'Questions? Shoot us an email',
      'Meet our spring nudes: 12 new lipstick shades',
      'Sexy summer dresses, 20% off',
    ])
      for (const finding of await screen(copy)) expect(finding.severity, copy).toBe('low');
    for (const asking of [
      'Send nudes',
      'Send me nudes',
      'Send us your nudes',
      'Leaked nudes inside',
    ])
      await expect(screen(asking), asking).resolves.toEqual([
        { category: 'sexual', severity: 'medium', score: 1 },
      ]);
    // A dash with space around it parts clauses: no phrase reads across it.
    for (const copy of [
      'Dressed to kill — you’ll turn heads all night',
      'Your wallet won’t get hurt – you save 30% on everything',
      'Dressed to kill - you deserve it',
    ])
      await expect(screen(copy), copy).resolves.toEqual([]);
  });

  it('finds nothing in ordinary marketing copy', async () => {
    await expect(
      screen('Ada, your first week with us', 'New arrivals: https://shop.example.com/new'),
    ).resolves.toEqual([]);
  });

  it('uses a lexicon it is given instead of the default', async () => {
    const custom = createLocalModerator({
      hate: [],
      violence: [],
      'self-harm': [],
      sexual: [],
      harassment: [{ phrase: 'cheapskate', severity: 'low' }],
    });
    await expect(
      custom.moderate(['Hey cheapskate'], new AbortController().signal),
    ).resolves.toEqual([{ category: 'harassment', severity: 'low', score: 1 }]);
  });

  it('refuses to answer once aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(moderator.moderate(['hello'], controller.signal)).rejects.toThrow('gone');
  });
});
