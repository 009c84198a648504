import { element } from './dom.js';

/** A view's title row: the heading, a line under it the view may update, and room for controls on the right. */
export function pageHeader(title: string, subtitle: string, ...controls: HTMLElement[]): { readonly root: HTMLElement; readonly subtitle: HTMLElement } {
  const subtitleElement = element('p', { class: 'page-subtitle', text: subtitle });
  const root = element('div', { class: 'page-header' },
    element('div', {}, element('h1', { class: 'page-title', text: title }), subtitleElement),
    controls.length === 0 ? null : element('div', { class: 'page-controls' }, ...controls),
  );
  return { root, subtitle: subtitleElement };
}
