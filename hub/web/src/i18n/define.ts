/** Every message is written in both languages side by side: a missing translation does not compile. */
export type Lang = 'vi' | 'en';
export const LANGS: readonly Lang[] = ['vi', 'en'];
export type Entry = Readonly<Record<Lang, string>>;

export function defineMessages<const T extends Record<string, Entry>>(messages: T): T {
  return messages;
}
