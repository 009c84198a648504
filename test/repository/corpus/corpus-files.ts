import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../src/protocol/project-paths';

/** test/repository/corpus/, found from the project root so it resolves from test/ and dist/test/ alike. */
export const CORPUS_DIR = join(projectRoot(), 'test', 'repository', 'corpus');

export interface CorpusFile {
  readonly file: string;
  readonly text: string;
}

/** Every *.pbtxt of the corpus, in file-name order. */
export function corpusFiles(): CorpusFile[] {
  return readdirSync(CORPUS_DIR)
    .filter((file) => file.endsWith('.pbtxt'))
    .sort()
    .map((file) => ({ file, text: readFileSync(join(CORPUS_DIR, file), 'utf8') }));
}
